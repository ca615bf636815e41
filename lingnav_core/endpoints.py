"""Where the servers listen and how clients authenticate: one source for servers and robot."""

S2_DEFAULT_HOST = "127.0.0.1"
S2_DEFAULT_PORT = 8890
# Where the S2 bearer token comes from when no token file is given (never the command line).
S2_TOKEN_ENV = "LINGNAV_S2_TOKEN"
# The client's own timeout in ms, sent with each step so S2 drops work nobody will read.
# Where the S2 server reads the upstream (OpenAI-compatible) API key when no key file is given.
S2_API_KEY_ENV = "LINGNAV_S2_API_KEY"
S2_DEADLINE_HEADER = "X-Client-Timeout-Ms"

S1_DEFAULT_HOST = "127.0.0.1"
S1_DEFAULT_PORT = 8901
S1_TOKEN_ENV = "LINGNAV_S1_TOKEN"  # bearer token for server and robot client, kept off the command line
