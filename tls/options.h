/* options.h: the tls-* directives as the server stores them. No server and
 * no BoringSSL headers: the server core, main's TLS code and the handshaker
 * all include it. */
#ifndef REDOUBT_TLS_OPTIONS_H
#define REDOUBT_TLS_OPTIONS_H

/* tls-auth-clients values. */
#define TLS_CLIENT_AUTH_NO 0
#define TLS_CLIENT_AUTH_YES 1
#define TLS_CLIENT_AUTH_OPTIONAL 2

/* tls_options is the TLS configuration (tls-* directives). The server owns
 * it and its strings; tls/ copies what it needs at each call that takes a
 * tls_options and never keeps the pointer. Main never opens the key file:
 * only paths and the passphrase pass through here. */
typedef struct tls_options {
  char *cert_file;
  char *key_file;
  char *key_file_pass;
  char *client_cert_file;
  char *client_key_file;
  char *client_key_file_pass;
  char *dh_params_file;
  char *ca_cert_file;
  char *ca_cert_dir;
  char *protocols;
  char *ciphers;
  char *ciphersuites;
  int prefer_server_ciphers;
  int session_caching;
  int session_cache_size;
  int session_cache_timeout;
  int auth_clients; /* TLS_CLIENT_AUTH_* */
} tls_options;

#endif
