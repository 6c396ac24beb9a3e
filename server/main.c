/* main.c: process entry. A handshaker is this same binary started with a
 * marker argument; it must branch off before anything else runs. */
#include "server/app.h"
#include "tls/handshaker.h"

int main(int argc, char **argv) {
  if (tls_is_handshaker_invocation(argc, argv)) {
    return tls_handshaker_main(argc, argv);
  }
  return server_main(argc, argv);
}
