/* main.c: process entry. The handshaker, the privileged spawner and the
 * seccomp-policy dump are this same binary started with a marker argument;
 * each must branch off before anything else runs. */
#include "sandbox/spawner.h"
#include "sandbox/spawner_client.h"
#include "server/app.h"
#include "tls/handshaker.h"

int main(int argc, char **argv) {
  if (tls_is_handshaker_invocation(argc, argv)) {
    return tls_handshaker_main(argc, argv);
  }
  if (sandbox_is_spawner_invocation(argc, argv)) {
    return sandbox_spawner_main(argc, argv);
  }
  if (sandbox_is_seccomp_dump_invocation(argc, argv)) {
    return sandbox_seccomp_dump_main(argc, argv);
  }
  /* The only children the privileged spawner may start: handshakers and
   * verifiers, never the server itself (spawner_client.h). */
  static const char *const spawner_children[] = {TLS_HANDSHAKER_ARG,
                                                 TLS_VERIFIER_ARG, NULL};
  sandbox_spawner_allow_children(spawner_children);
  return server_main(argc, argv);
}
