/* spawner.h: the privileged spawner process (spawner.c). main() dispatches
 * here when argv says so, before anything else runs; what it does and how
 * main and handshakers talk to it is spawner_client.h. */
#ifndef REDOUBT_SANDBOX_SPAWNER_H
#define REDOUBT_SANDBOX_SPAWNER_H

/* sandbox_is_spawner_invocation returns 1 if argv is
 * "<exe> --redoubt-spawner 3" (main() must then return
 * sandbox_spawner_main's result), else 0. */
int sandbox_is_spawner_invocation(int argc, char **argv);

/* sandbox_spawner_main runs the spawner until main closes its socket (or
 * dies). Returns the process exit status. */
int sandbox_spawner_main(int argc, char **argv);

/* sandbox_seccomp_dump_main implements "<exe> --redoubt-seccomp-bpf
 * handshaker|spawner": the BPF program of that policy, exactly as a live
 * process installs it, on stdout (for the test that compares it with a
 * running process's filter, and for auditors). Returns the exit status. */
#define SANDBOX_SECCOMP_DUMP_ARG "--redoubt-seccomp-bpf"
int sandbox_is_seccomp_dump_invocation(int argc, char **argv);
int sandbox_seccomp_dump_main(int argc, char **argv);

#endif
