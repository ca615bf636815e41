"""NavDP diffusion policy, written to /work/shared/NAVDP_SPEC.md so official checkpoints load strictly."""
