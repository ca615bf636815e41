"""One rolling obstacle and visited-cells grid in the odom frame, built from depth.

A camera only sees what is in front of it and beyond its minimum range, so the planners and the
collision monitor forget an obstacle the moment it enters the blind zone. This grid remembers:
depth points in the obstacle height band mark cells, valid rays clear the cells they pass over
(as Nav2's obstacle layer does), and both kinds of evidence time out so that moved obstacles
stop blocking. Invalid depth marks and clears nothing: it is unknown, never free.

Clearing is height-aware. A ray proves a cell empty only up to its own height over the cell, so
it clears a free/unknown cell only where it is below `clear_max_height_m`, and a remembered
obstacle only where it passes below that obstacle's recorded height (a ray that goes over a low
box does not erase it). A raised top (a table) is marked by its front edge in every frame that
sees it, after that frame's clearing, so rays passing under it do not unmark it while it is in
view, and out of view nothing clears it. A cell seen free is free at once, whatever it held before: a doorway a
person has left opens with the next frame, while an obstacle that merely left the view is
remembered until its timeout. A cell marked where the map knew free space a moment before
"appeared": something moved there (a person), which the mission uses to wait instead of giving up,
and which is forgotten after `moving_timeout_s` unseen instead of `obstacle_timeout_s`: a person
who left while the camera looked elsewhere does not close a doorway for half a minute. Depth noise
makes a static surface appear that way too: its points scatter a cell or two along their rays, into
cells that rays grazing the surface had just seen free. Measured with the sim camera (noise
0.002 + 0.004 z^2 m) turning and driving in next_room's static room, 286 of 302 such marks lay
beyond 2.5 m (sigma there 2.7 cm and more) and 13 of the other 16 within two cells of the surface,
while a person stepping in front of the robot lay within 2.5 m and more than two cells from
anything static in 68 of 71 marks. So a mark counts as moved in only where the cell was seen free
in a run of frames at least MOVED_IN_FREE_FOR_S long (at start-up, and where a ray grazes a surface,
one frame said free), within MOVED_IN_MAX_RANGE_M of the camera (the mission waits only for movers
1.5 m ahead), and farther than MOVED_IN_STATIC_GAP_CELLS from a static surface or the window's rim.
In that drive, and in drives through five other static scenario rooms, no mark was left; a person
crossing or walking at the robot is flagged as early as before.
The grid recentres on the robot as it moves; whatever scrolls out is lost.

Fleet peers (other robots that share their pose, perception/fleet_peers.py) are stamped into a
layer of their own for `peer_timeout_s`: a robot beside this one is outside its camera's view,
and two robots whose ways converge from the side would otherwise never see each other. Peer
cells block like obstacles and count as having moved in (robots move), but leave no trail in the
depth memory: where a peer was a second ago is not where it is. Some peers are not waited for
(fleet_peers.worth_waiting_for: one with the right of way, one standing still), nor is what the
camera sees moving under their footprint: two robots that meet head-on would otherwise each wait
for the other until the wait runs out.

The mission's dead-end memory shares the grid: `mark_visited` records where the robot has been.
All stamps are integer nanoseconds. Pure numpy; the navigator wires it to ROS.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from lingnav_core.camera import CameraMount, Intrinsics
from lingnav_core.depth_points import depth_to_base_points, in_height_band
from lingnav_ros.control.types import Pose2D
from lingnav_ros.perception.local_map_geometry import densify, first_hit, floor_view, ray_samples, scrolled
from lingnav_ros.perception.planar_transforms import base_to_odom_xy, odom_to_base_xy
from lingnav_ros.perception.rgbd_frame import checked_depth
from lingnav_ros.stamps import NS_PER_S, seconds_to_ns

NEVER_NS = -(2 ** 62)
PEER_SEEN_MARGIN_M = 0.15  # depth of a peer's rim: cell size, depth noise, a pose 0.1 s old
MOVED_IN_GROW_CELLS = 4  # a moved-in mark flags the cells marked with it this close (cells)
MOVED_IN_MAX_RANGE_M = 2.5  # farther, depth noise scatters static surfaces into seen-free cells
MOVED_IN_FREE_FOR_S = 0.4  # seen free this long before the mark (one grazing ray proves little)
MOVED_IN_STATIC_GAP_CELLS = 2  # ... and this close to a static obstacle, the scatter is its own
MOVED_IN_STATIC_AFTER_S = 0.4  # static: marked this long (gaps shorter), and within MOVED_IN_STATIC_SEEN_S
MOVED_IN_STATIC_SEEN_S = 0.25  # (a walking person's front stays in a cell a frame or two, then hides it)
UNKNOWN, FREE, OCCUPIED = -1, 0, 100  # nav_msgs/OccupancyGrid values
# the grid's layers and what a cell holds before anything is seen there (scrolling, snapshots)
LAYERS = (("occ_ns", NEVER_NS), ("occ_since_ns", NEVER_NS), ("occ_h", 0.0), ("appear_ns", NEVER_NS),
          ("free_ns", NEVER_NS), ("free_since_ns", NEVER_NS), ("dark_ns", NEVER_NS), ("dark_frames", 0),
          ("visit_ns", NEVER_NS), ("visits", 0), ("peer_ns", NEVER_NS), ("no_wait_ns", NEVER_NS))


@dataclass(frozen=True)
class LocalMapConfig:
    size_m: float = 6.0
    resolution_m: float = 0.05
    min_height_m: float = 0.05  # below: floor
    max_height_m: float = 1.5  # above: passes over the robot
    clear_max_height_m: float = 0.3  # a ray higher than this over a cell proves nothing about it
    mark_max_range_m: float = 4.0  # depth noise grows with z^2: do not mark beyond
    clear_max_range_m: float = 4.0
    obstacle_timeout_s: float = 30.0
    moving_timeout_s: float = 4.0  # an obstacle that moved into seen-free space, unseen this long: gone
    free_timeout_s: float = 15.0
    target_columns: int = 80  # depth is decimated to about this many columns
    recentre_m: float = 1.0  # scroll when the robot is this far from the centre
    footprint_radius_m: float = 0.2  # cells under the robot are free (footprint clearing)
    near_view_m: float = 1.2  # floor pixels closer than this form the "near field" view
    revisit_gap_s: float = 5.0  # a cell counts one more visit only after this long away
    dark_min_frames: int = 3  # looked at without a reading in this many frames running: dark
    peer_timeout_s: float = 0.5  # a fleet peer's footprint blocks this long after its last pose

    def __post_init__(self) -> None:
        for name in ("size_m", "resolution_m", "obstacle_timeout_s", "moving_timeout_s", "free_timeout_s", "recentre_m",
                     "mark_max_range_m", "clear_max_range_m", "near_view_m", "peer_timeout_s"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0.0):
                raise ValueError(f"local map {name} must be finite and > 0, got {v}")
        if not 0.0 <= self.min_height_m < self.max_height_m:
            raise ValueError("local map needs 0 <= min_height_m < max_height_m")
        if self.size_m / self.resolution_m > 2000:
            raise ValueError("local map would have more than 2000 x 2000 cells")
        if self.target_columns < 8:
            raise ValueError("local map target_columns must be >= 8")


@dataclass(frozen=True)
class NearView:
    """The last frame's view of the floor close to the robot: floor points [P,2] (odom) of the
    pixels whose rays meet the floor within `near_view_m`, and whether each read invalid."""

    floor_xy_odom: np.ndarray
    invalid: np.ndarray
    stamp_ns: int


class LocalMap:
    def __init__(self, config: LocalMapConfig | None = None) -> None:
        self.config = c = config or LocalMapConfig()
        self.n = int(round(c.size_m / c.resolution_m))
        self.res = c.resolution_m
        shape = (self.n, self.n)  # [ix, iy]
        self.occ_ns = np.full(shape, NEVER_NS, np.int64)
        self.occ_since_ns = np.full(shape, NEVER_NS, np.int64)  # first mark of the current run of marks
        self.occ_h = np.zeros(shape, np.float32)
        self.appear_ns = np.full(shape, NEVER_NS, np.int64)  # marked while known free: moved in
        self.free_ns = np.full(shape, NEVER_NS, np.int64)
        self.free_since_ns = np.full(shape, NEVER_NS, np.int64)  # first of the current run of clears
        self.dark_ns = np.full(shape, NEVER_NS, np.int64)  # looked at through invalid depth
        self.dark_frames = np.zeros(shape, np.int16)  # frames running, reset when seen free
        self.visit_ns = np.full(shape, NEVER_NS, np.int64)
        self.visits = np.zeros(shape, np.int32)
        self.peer_ns = np.full(shape, NEVER_NS, np.int64)  # under a fleet peer's footprint then
        self.no_wait_ns = np.full(shape, NEVER_NS, np.int64)  # ... of a peer not waited for
        self.origin = np.zeros(2, np.int64)  # odom cell index of grid cell [0, 0]
        self.centred = False
        self.near_view: NearView | None = None
        self.camera_on_base: tuple[float, float, float] | None = None  # mount x, y and half HFOV (rad)
        self._view_cache: dict = {}

    def origin_xy(self) -> tuple[float, float]:  # odom position of the grid's lower-left corner
        return float(self.origin[0] * self.res), float(self.origin[1] * self.res)

    def cell_of(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Grid indices (ix, iy) of odom points and whether they are inside the window."""
        p = np.asarray(xy, dtype=float).reshape(-1, 2)
        ix = np.floor(p[:, 0] / self.res).astype(np.int64) - self.origin[0]
        iy = np.floor(p[:, 1] / self.res).astype(np.int64) - self.origin[1]
        inside = (ix >= 0) & (ix < self.n) & (iy >= 0) & (iy < self.n)
        return np.clip(ix, 0, self.n - 1), np.clip(iy, 0, self.n - 1), inside

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Odom x of each row and y of each column of the grid."""
        ar = np.arange(self.n)
        return (ar + self.origin[0] + 0.5) * self.res, (ar + self.origin[1] + 0.5) * self.res

    def recentre(self, x_m: float, y_m: float) -> None:
        """Keep the robot near the middle: scroll the arrays by whole cells, forget what leaves."""
        half = self.n // 2
        want = np.array([math.floor(x_m / self.res) - half, math.floor(y_m / self.res) - half], np.int64)
        if self.centred:
            cx, cy = (self.origin + half + 0.5) * self.res
            if math.hypot(x_m - cx, y_m - cy) < self.config.recentre_m:
                return
        shift = want - self.origin
        self.origin = want
        if not self.centred:
            self.centred = True
            return
        for name, blank in LAYERS:
            setattr(self, name, scrolled(getattr(self, name), int(shift[0]), int(shift[1]), blank))

    # ------------------------------------------------------------------ state
    def snapshot(self) -> LocalMap:
        """A copy to query without holding the owner's lock (the arrays are small)."""
        out = copy.copy(self)
        for name in [name for name, _ in LAYERS] + ["origin"]:
            setattr(out, name, getattr(self, name).copy())
        return out

    def occupied_mask(self, now_ns: int) -> np.ndarray:
        """Remembered obstacles seen in depth, and fleet peers."""
        return self._depth_occupied(now_ns) | self.peer_mask(now_ns)

    def _depth_occupied(self, now_ns: int) -> np.ndarray:
        c = self.config
        age = now_ns - self.occ_ns
        moved_in = self.appear_ns != NEVER_NS
        timeout = np.where(moved_in, seconds_to_ns(c.moving_timeout_s), seconds_to_ns(c.obstacle_timeout_s))
        return (self.occ_ns >= self.free_ns) & (age <= timeout)

    def peer_mask(self, now_ns: int, not_waited_for: bool = False) -> np.ndarray:
        """Cells under a fleet peer's footprint (of one not waited for, if asked: a wider disk)
        within the last `peer_timeout_s`."""
        stamps = self.no_wait_ns if not_waited_for else self.peer_ns
        return (stamps != NEVER_NS) & (now_ns - stamps <= seconds_to_ns(self.config.peer_timeout_s))

    def free_mask(self, now_ns: int) -> np.ndarray:
        c = self.config
        return (self.free_ns > self.occ_ns) & (now_ns - self.free_ns <= seconds_to_ns(c.free_timeout_s))

    def dark_mask(self, now_ns: int) -> np.ndarray:
        """Cells the camera looked toward but read nothing from (a black surface, below its
        minimum range) in `dark_min_frames` frames running, more recently than it saw them free:
        unknown, and known to be in view. Random holes come and go, so they do not add up."""
        c = self.config
        return (self.dark_ns > self.free_ns) & (self.dark_frames >= c.dark_min_frames) \
            & (now_ns - self.dark_ns <= seconds_to_ns(c.free_timeout_s))

    def states(self, now_ns: int) -> np.ndarray:
        """int8 [n, n] (ix, iy): OCCUPIED, FREE or UNKNOWN."""
        out = np.full((self.n, self.n), UNKNOWN, np.int8)
        out[self.free_mask(now_ns)] = FREE
        out[self.occupied_mask(now_ns)] = OCCUPIED
        return out

    # ------------------------------------------------------------------ update
    def update(self, depth_m: np.ndarray, intr: Intrinsics, mount: CameraMount, pose: Pose2D,
               stamp_ns: int) -> dict:
        """Fuse one depth image taken at `stamp_ns` from `pose` (odom, at the depth stamp)."""
        c = self.config
        d, intr = checked_depth(depth_m, intr, pose, "local map")
        stamp_ns = int(stamp_ns)
        self.recentre(pose.x_m, pose.y_m)
        self.camera_on_base = (mount.x_m, mount.y_m, math.atan2(0.5 * intr.width, intr.fx))
        stride = max(1, int(round(d.shape[1] / c.target_columns)))
        pts, valid = depth_to_base_points(d, intr, mount, stride=stride)
        floor_xy = self._store_near_view(intr, mount, pose, stride, valid, stamp_ns)
        cam_xy = base_to_odom_xy(np.array([[mount.x_m, mount.y_m]]), pose)[0]
        xy = base_to_odom_xy(pts[:, :2], pose) if pts.shape[0] else np.zeros((0, 2))
        z = pts[:, 2]
        rng = np.hypot(xy[:, 0] - cam_xy[0], xy[:, 1] - cam_xy[1])
        was_occ = self._depth_occupied(stamp_ns)
        n_clear = self._clear_rays(cam_xy, mount.height_m, xy, z, rng, was_occ, stamp_ns)
        obst = in_height_band(z, c.min_height_m, c.max_height_m) & (rng <= c.mark_max_range_m)
        n_mark = self._mark(xy[obst], z[obst], rng[obst], stamp_ns)
        self._mark_dark(cam_xy, mount.height_m, floor_xy[~valid.ravel()], stamp_ns)
        self.clear_footprint(pose, stamp_ns)
        return {"rays": int(valid.size), "valid_fraction": float(valid.mean()) if valid.size else 0.0,
                "marked_cells": n_mark, "cleared_samples": n_clear, "stride": stride}

    def _clear_rays(self, cam_xy, cam_z, xy, z, rng, was_occ, stamp_ns) -> int:
        c = self.config
        if xy.shape[0] == 0:
            return 0
        # one ray per end cell (the lowest: it proves the most), clipped to the clearing range
        ix, iy, _ = self.cell_of(xy)
        key = ix * self.n + iy
        order = np.lexsort((z, key))
        first = np.ones(order.size, bool)
        first[1:] = key[order][1:] != key[order][:-1]
        sel = order[first]
        end_xy, end_z, length = xy[sel], z[sel], rng[sel]
        # every ray stops half a cell short of its end: depth noise must not clear the first cell
        # of something the camera cannot see (a black object behind the last floor reading)
        reach = np.minimum(length - 0.5 * self.res, c.clear_max_range_m)
        samples = ray_samples(cam_xy, end_xy, length, reach, self.res)
        if samples is None:
            return 0
        sx, sy, frac, ray = samples
        sz = cam_z + (end_z[ray] - cam_z) * frac
        cx, cy, inside = self.cell_of(np.stack([sx, sy], axis=1))
        limit = np.where(was_occ[cx, cy], self.occ_h[cx, cy], c.clear_max_height_m)
        ok = inside & (sz <= limit)
        cx, cy = cx[ok], cy[ok]
        # a run of clears: no mark in between, no gap longer than MOVED_IN_FREE_FOR_S
        new_run = (self.occ_ns[cx, cy] >= self.free_ns[cx, cy]) \
            | (stamp_ns - self.free_ns[cx, cy] > seconds_to_ns(MOVED_IN_FREE_FOR_S))
        self.free_since_ns[cx, cy] = np.where(new_run, stamp_ns, self.free_since_ns[cx, cy])
        self.free_ns[cx, cy] = stamp_ns
        self.appear_ns[cx, cy] = NEVER_NS  # free again: the next mark here has moved in
        self.dark_frames[cx, cy] = 0
        return int(ok.sum())

    def _mark_dark(self, cam_xy, cam_z: float, floor_xy: np.ndarray, stamp_ns: int) -> None:
        """Invalid pixels looking down: the cells their rays cross on the way to the floor were in
        view but not seen (a black box, a hole in the depth). Only the unknown check uses this."""
        floor_xy = floor_xy[np.isfinite(floor_xy[:, 0])] if floor_xy.shape[0] else floor_xy
        if floor_xy.shape[0] == 0:
            return
        ix, iy, _ = self.cell_of(floor_xy)
        _, first = np.unique(ix * self.n + iy, return_index=True)
        end = floor_xy[first]
        length = np.hypot(end[:, 0] - cam_xy[0], end[:, 1] - cam_xy[1])
        samples = ray_samples(cam_xy, end, length, np.minimum(length, self.config.clear_max_range_m), self.res)
        if samples is None:
            return
        cx, cy, inside = self.cell_of(np.stack(samples[:2], axis=1))
        inside &= cam_z * (1.0 - samples[2]) <= self.config.clear_max_height_m  # as low as a clearing ray
        cells = np.unique(cx[inside] * self.n + cy[inside])
        ux, uy = cells // self.n, cells % self.n
        seen_free_now = self.free_ns[ux, uy] == stamp_ns
        ux, uy = ux[~seen_free_now], uy[~seen_free_now]
        self.dark_ns[ux, uy] = stamp_ns
        self.dark_frames[ux, uy] = np.minimum(self.dark_frames[ux, uy] + 1, 1000)

    def _mark(self, xy: np.ndarray, z: np.ndarray, range_m: np.ndarray, stamp_ns: int) -> int:
        ix, iy, inside = self.cell_of(xy)
        ix, iy, z, range_m = ix[inside], iy[inside], z[inside], range_m[inside]
        if ix.size == 0:
            return 0
        still = self._depth_occupied(stamp_ns)  # after clearing: history worth keeping
        cells = ix * self.n + iy
        uniq, which = np.unique(cells, return_inverse=True)
        ux, uy = uniq // self.n, uniq % self.n
        # a run of marks survives gaps (a noisy ray through a surface clears its cell now and then)
        in_run = stamp_ns - self.occ_ns[ux, uy] <= seconds_to_ns(MOVED_IN_STATIC_AFTER_S)
        self.occ_since_ns[ux, uy] = np.where(in_run, self.occ_since_ns[ux, uy], stamp_ns)
        nearest_m = np.full(uniq.size, np.inf)
        np.minimum.at(nearest_m, which.ravel(), range_m)
        # free until this frame (seen free for a while before it, not by it), near enough to trust
        free_for_ns = self.free_ns[ux, uy] - self.free_since_ns[ux, uy]
        moved_in = self.free_mask(stamp_ns)[ux, uy] & (self.free_ns[ux, uy] < stamp_ns) \
            & (free_for_ns >= seconds_to_ns(MOVED_IN_FREE_FOR_S)) & (nearest_m <= MOVED_IN_MAX_RANGE_M)
        if moved_in.any():
            moved_in &= ~self._beside_static(ux, uy, stamp_ns)[ux, uy]
        self._flag_moved_in(ux, uy, moved_in, stamp_ns)
        self.occ_h[ux, uy] = np.where(still[ux, uy], self.occ_h[ux, uy], 0.0)
        np.maximum.at(self.occ_h, (ix, iy), z.astype(np.float32))
        self.occ_ns[ux, uy] = stamp_ns
        return int(uniq.size)

    def _beside_static(self, ux: np.ndarray, uy: np.ndarray, stamp_ns: int) -> np.ndarray:
        """Cells within MOVED_IN_STATIC_GAP_CELLS of a static surface or of the window's rim, where
        noise on the surface lands. Static: marked in a run (gaps under MOVED_IN_STATIC_AFTER_S)
        at least MOVED_IN_STATIC_AFTER_S long, not moved in, and marked now (cells `ux, uy`) or
        within MOVED_IN_STATIC_SEEN_S. A person walking at the camera is not: their front moves a
        cell or more a frame, and the cells it left are hidden behind it, not marked again."""
        seen = stamp_ns - self.occ_ns <= seconds_to_ns(MOVED_IN_STATIC_SEEN_S)
        seen[ux, uy] = True
        static = seen & (self.appear_ns == NEVER_NS) \
            & (stamp_ns - self.occ_since_ns >= seconds_to_ns(MOVED_IN_STATIC_AFTER_S))
        near = ndimage.binary_dilation(static, structure=np.ones((3, 3), bool), iterations=MOVED_IN_STATIC_GAP_CELLS) \
            if static.any() else static
        # at the window's rim the surface may lie just outside it, where the map keeps nothing
        g = MOVED_IN_STATIC_GAP_CELLS
        near[:g], near[-g:], near[:, :g], near[:, -g:] = True, True, True, True
        return near

    def _flag_moved_in(self, ux: np.ndarray, uy: np.ndarray, moved_in: np.ndarray, stamp_ns: int) -> None:
        """Flag the cells marked now that were free, and the ones marked now next to them (within
        MOVED_IN_GROW_CELLS): the rays are sparse, so not every cell of a person was seen free
        before they stepped in, but all of the person's cells belong to the same blob."""
        if not moved_in.any():
            return
        now = np.zeros((self.n, self.n), bool)
        now[ux, uy] = True
        seed = np.zeros_like(now)
        seed[ux[moved_in], uy[moved_in]] = True
        grown = ndimage.binary_dilation(seed, structure=np.ones((3, 3), bool), iterations=MOVED_IN_GROW_CELLS,
                                        mask=now)
        fresh = grown & (self.appear_ns == NEVER_NS)
        self.appear_ns[fresh] = stamp_ns

    def mark_peer(self, footprint_xy: np.ndarray, radius_m: float, stamp_ns: int,
                  wait_for: bool = True) -> None:
        """A fleet peer covers the disks of `radius_m` around the odom points `footprint_xy` [K,2]
        (where it stands and where it is about to be) at `stamp_ns`."""
        layers = [(self.peer_ns, radius_m)]
        if not wait_for:  # wider: what the camera sees of the peer lies on its rim, a pose late
            layers.append((self.no_wait_ns, radius_m + PEER_SEEN_MARGIN_M))
        for x_m, y_m in np.asarray(footprint_xy, dtype=float).reshape(-1, 2):
            for layer, r_m in layers:
                mask, (i0, j0) = self.disk(float(x_m), float(y_m), r_m)
                if mask is not None:
                    sub = layer[i0:i0 + mask.shape[0], j0:j0 + mask.shape[1]]
                    sub[mask] = np.maximum(sub[mask], int(stamp_ns))

    def clear_footprint(self, pose: Pose2D, stamp_ns: int) -> None:
        """The robot stands on these cells, so nothing else does (Nav2's footprint clearing)."""
        mask, (i0, j0) = self.disk(pose.x_m, pose.y_m, self.config.footprint_radius_m)
        if mask is not None:
            sub = (slice(i0, i0 + mask.shape[0]), slice(j0, j0 + mask.shape[1]))
            self.free_ns[sub][mask] = stamp_ns
            self.occ_ns[sub][mask] = NEVER_NS

    def disk(self, x_m: float, y_m: float, radius_m: float):
        """Cells within `radius_m` of (x, y): a bool mask and the grid index of its [0, 0]
        (mask None when the disk is outside the window)."""
        r = int(math.ceil(radius_m / self.res))
        ci = int(math.floor(x_m / self.res)) - self.origin[0]
        cj = int(math.floor(y_m / self.res)) - self.origin[1]
        i0, i1 = max(ci - r, 0), min(ci + r + 1, self.n)
        j0, j1 = max(cj - r, 0), min(cj + r + 1, self.n)
        if i0 >= i1 or j0 >= j1:
            return None, (0, 0)
        xs = (np.arange(i0, i1) + self.origin[0] + 0.5) * self.res
        ys = (np.arange(j0, j1) + self.origin[1] + 0.5) * self.res
        mask = np.hypot(xs[:, None] - x_m, ys[None, :] - y_m) <= radius_m
        return mask, (i0, j0)

    def _store_near_view(self, intr, mount, pose, stride, valid, stamp_ns) -> np.ndarray:
        """Keep the near-field view of this frame; return every strided pixel's floor point
        (odom [h*w, 2], NaN for rays that never meet the floor)."""
        key = (intr, mount, stride, valid.shape)
        if key not in self._view_cache:
            self._view_cache.clear()
            self._view_cache[key] = floor_view(intr, mount, stride, valid.shape, self.config.near_view_m)
        sel, floor_xy_base = self._view_cache[key]
        floor_odom = base_to_odom_xy(floor_xy_base.reshape(-1, 2), pose)
        near = sel.ravel()
        self.near_view = NearView(floor_odom[near], ~valid.ravel()[near], stamp_ns)
        return floor_odom

    # ------------------------------------------------------------------ visited cells
    def mark_visited(self, x_m: float, y_m: float, stamp_ns: int, radius_m: float | None = None) -> None:
        """The robot stood at (x, y): its footprint's cells are visited now; a cell's count grows
        once per return after `revisit_gap_s` away."""
        if not (math.isfinite(x_m) and math.isfinite(y_m)):
            raise ValueError("visited position is not finite")
        self.recentre(x_m, y_m)
        r = self.config.footprint_radius_m if radius_m is None else radius_m
        mask, (i0, j0) = self.disk(x_m, y_m, r)
        if mask is None:
            return
        sub = (slice(i0, i0 + mask.shape[0]), slice(j0, j0 + mask.shape[1]))
        vns, cnt = self.visit_ns[sub], self.visits[sub]
        new = mask & (int(stamp_ns) - vns > seconds_to_ns(self.config.revisit_gap_s))
        cnt[new] += 1
        vns[mask] = int(stamp_ns)

    def visit_count(self, x_m: float, y_m: float) -> int:
        ix, iy, inside = self.cell_of(np.array([[x_m, y_m]]))
        return int(self.visits[ix[0], iy[0]]) if inside[0] else 0

    def visited_age_s(self, x_m: float, y_m: float, now_ns: int) -> float:
        """Seconds since the robot was last at (x, y); inf when never (or scrolled out)."""
        ix, iy, inside = self.cell_of(np.array([[x_m, y_m]]))
        if not inside[0] or self.visit_ns[ix[0], iy[0]] == NEVER_NS:
            return math.inf
        return (int(now_ns) - int(self.visit_ns[ix[0], iy[0]])) / NS_PER_S

    def directions(self, pose: Pose2D, now_ns: int, count: int = 16, horizon_m: float = 1.5,
                   radius_m: float = 0.2) -> list[dict]:
        """Per bearing (robot frame, rad): free distance until a remembered obstacle (swept with
        `radius_m`), whether that is shorter than `horizon_m` (blocked), and the fraction of the
        first `horizon_m` already visited: where a dead-end memory should not go again."""
        out = []
        occ = self.occupied_mask(now_ns)
        for k in range(count):
            b = -math.pi + 2.0 * math.pi * k / count
            a = pose.theta_rad + b
            s = np.arange(0.0, horizon_m + 1e-9, self.res)
            path = np.stack([pose.x_m + s * math.cos(a), pose.y_m + s * math.sin(a), np.full_like(s, a)], axis=1)
            d = first_hit(self, path, s, occ, radius_m)
            ix, iy, inside = self.cell_of(path[:, :2])
            visited = inside & (self.visit_ns[ix, iy] != NEVER_NS)
            out.append({"bearing_rad": b, "free_m": d, "blocked": d < horizon_m,
                        "visited_fraction": float(visited[1:].mean()) if len(s) > 1 else 0.0})
        return out

    # ------------------------------------------------------------------ queries
    def moving_obstacle_ahead(self, pose: Pose2D, now_ns: int, horizon_m: float, halfwidth_m: float,
                              recent_s: float) -> bool:
        """An occupied cell in the corridor `horizon_m` ahead of the robot (`halfwidth_m` each side)
        that appeared in space known free within the last `recent_s`, or a fleet peer: a person
        or a robot in the way; not a peer that is not waited for (module docstring)."""
        occ = (self._depth_occupied(now_ns) & (now_ns - self.appear_ns <= seconds_to_ns(recent_s))) \
            | self.peer_mask(now_ns)
        occ &= ~self.peer_mask(now_ns, not_waited_for=True)
        if not occ.any():
            return False
        ix, iy = np.nonzero(occ)
        xs, ys = self.cell_centres()
        b = odom_to_base_xy(np.stack([xs[ix], ys[iy]], axis=1), pose)
        return bool(np.any((b[:, 0] > 0.0) & (b[:, 0] <= horizon_m) & (np.abs(b[:, 1]) <= halfwidth_m)))

    def occupied_points(self, now_ns: int) -> np.ndarray:
        """Odom centres [M,2] of the cells remembered as obstacles."""
        ix, iy = np.nonzero(self.occupied_mask(now_ns))
        xs, ys = self.cell_centres()
        return np.stack([xs[ix], ys[iy]], axis=1)

    def occupied_in_box(self, pose: Pose2D, now_ns: int, x_min: float, x_max: float, y_min: float,
                        y_max: float) -> np.ndarray:
        """Remembered obstacle cells [M,2] in the robot frame inside a robot-frame box."""
        pts = self.occupied_points(now_ns)
        if pts.shape[0] == 0:
            return pts
        b = odom_to_base_xy(pts, pose)
        keep = (b[:, 0] >= x_min) & (b[:, 0] <= x_max) & (b[:, 1] >= y_min) & (b[:, 1] <= y_max)
        return b[keep]

    def path_distances(self, path_odom: np.ndarray, now_ns: int, radius_m: float,
                       unknown_halfwidth_m: float) -> tuple[float, float]:
        """Arc length along `path_odom` [N,3] until the robot disk (`radius_m`) first meets a
        remembered obstacle, and until the centre strip (`unknown_halfwidth_m`) first meets a
        cell that is not known free. inf when it never does within the path."""
        path = np.asarray(path_odom, dtype=float).reshape(-1, 3)
        pts, s = densify(path[:, :2], self.res)
        occ = self.occupied_mask(now_ns)
        d_occ = first_hit(self, np.column_stack([pts, np.zeros(len(pts))]), s, occ, radius_m)
        not_free = ~self.free_mask(now_ns)
        d_unk = first_hit(self, np.column_stack([pts, np.zeros(len(pts))]), s, not_free, unknown_halfwidth_m,
                           outside_hits=True)
        return d_occ, d_unk

    def clearance(self, path_odom: np.ndarray, now_ns: int) -> np.ndarray:
        """Distance (m) from each path point to the nearest remembered obstacle cell centre."""
        occ = self.occupied_mask(now_ns)
        path = np.asarray(path_odom, dtype=float).reshape(-1, 3)
        if not occ.any():
            return np.full(path.shape[0], math.inf)
        edt = ndimage.distance_transform_edt(~occ) * self.res
        ix, iy, inside = self.cell_of(path[:, :2])
        return np.where(inside, edt[ix, iy], math.inf)

    def free_distance_ahead(self, pose: Pose2D, now_ns: int, radius_m: float, horizon_m: float = 3.0) -> float:
        s = np.arange(0.0, horizon_m + 1e-9, self.res)
        path = np.stack([pose.x_m + s * math.cos(pose.theta_rad), pose.y_m + s * math.sin(pose.theta_rad),
                         np.full_like(s, pose.theta_rad)], axis=1)
        return first_hit(self, path, s, self.occupied_mask(now_ns), radius_m)

    def rasterize_base(self, pose: Pose2D, now_ns: int, x0_m: float, y0_m: float, res_m: float,
                       nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
        """Remembered (occupied, free) bool [nx, ny] on a robot-frame grid whose cell (i, j) has
        its centre at (x0 + (i+.5) res, y0 + (j+.5) res): a planner ORs these into its own grid."""
        gx = x0_m + (np.arange(nx) + 0.5) * res_m
        gy = y0_m + (np.arange(ny) + 0.5) * res_m
        bx, by = np.meshgrid(gx, gy, indexing="ij")
        odom = base_to_odom_xy(np.stack([bx.ravel(), by.ravel()], axis=1), pose)
        ix, iy, inside = self.cell_of(odom)
        occ = (inside & self.occupied_mask(now_ns)[ix, iy]).reshape(nx, ny)
        free = (inside & self.free_mask(now_ns)[ix, iy]).reshape(nx, ny)
        return occ, free

    def occupancy_grid(self, now_ns: int) -> tuple[np.ndarray, tuple[float, float], float]:
        # nav_msgs/OccupancyGrid data (row-major, rows along odom y), origin xy and resolution
        return self.states(now_ns).T.copy(), self.origin_xy(), self.res
