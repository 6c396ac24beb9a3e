/* spawner_proto.h: the message codec of the privileged spawner
 * (sandbox/spawner.h): main <-> spawner, and handshaker -> spawner for the
 * private keys.
 *
 * One message per SOCK_SEQPACKET datagram: u8 type, then the type's fields
 * in order (integers big-endian; "string" and "bytes" are a u32 length and
 * that many bytes; strings contain no NUL byte). Every length has a named
 * maximum; trailing bytes are an error. Each direction has its own parse
 * function, so no side accepts a message meant for the other, and the
 * spawner parses requests from main and from a handshaker with two
 * different functions: a handshaker can only ask for keys, main can never
 * ask for keys.
 *
 *   type            direction              fields
 *   --------------  ---------------------  -------------------------------
 *   INIT            main -> spawner        string argv0 (1..PATH),
 *                   (first message only)   string child_arg[0] (1..ARG),
 *                                          string child_arg[1] (0..ARG),
 *                                          string sandbox_user (0..USER),
 *                                          string key_file (0..PATH),
 *                                          string client_key_file (0..PATH),
 *                                          string key_file_pass (0..PASS),
 *                                          string client_key_file_pass
 *                                          (0..PASS), u8 seccomp (0|1)
 *   SPAWN           main -> spawner        u32 socket_buffer (0..BUFFER),
 *                                          u8 kind (index of a non-empty
 *                                          child_arg: the child's argv[1])
 *   KILL            main -> spawner        u32 pid (> 0)
 *   REAP            main -> spawner        u32 pid (> 0), u8 how (REAP_*)
 *   NICE            main -> spawner        u32 pid (> 0), u8 nice + 20
 *                                          (0..39: nice -20..19)
 *   KEY_REQUEST     handshaker -> spawner  string key_file (1..PATH),
 *                                          string client_key_file (0..PATH)
 *   READY           spawner -> main        nothing
 *   SPAWNED         spawner -> main        u32 pid (> 0); the IPC socket
 *                                          rides along (SCM_RIGHTS)
 *   STATUS          spawner -> main        u32 pid (> 0), u8 state
 *                                          (STATE_*), u32 wait status
 *   OK              spawner -> main        nothing
 *   ERROR           spawner -> either      string reason (1..REASON)
 *   KEYS            spawner -> handshaker  bytes key (1..KEY_FILE),
 *                                          string key_file_pass (0..PASS),
 *                                          bytes client_key (0..KEY_FILE),
 *                                          string client_key_file_pass
 *                                          (0..PASS)
 *
 * Parsed strings are copied into the message (NUL-terminated); the key
 * bytes of KEYS point into the parsed datagram. Messages that carry key
 * material or passphrases must be wiped by their holder
 * (spawner_message_wipe and explicit_bzero of the datagram). */
#ifndef REDOUBT_SANDBOX_SPAWNER_PROTO_H
#define REDOUBT_SANDBOX_SPAWNER_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* Limits */
#define SPAWNER_MAX_PATH 4096
#define SPAWNER_MAX_ARG 64
#define SPAWNER_MAX_USER 256
#define SPAWNER_MAX_PASS 1024
#define SPAWNER_MAX_REASON 256
/* A PEM private key: RSA-16384 is ~12.7 KB, so 32 KiB leaves room for
 * comments and an encrypted key's headers. */
#define SPAWNER_MAX_KEY_FILE (32 * 1024)
#define SPAWNER_MAX_SOCKET_BUFFER (16 * 1024 * 1024)
/* One datagram: KEYS is the largest message. */
#define SPAWNER_MAX_MESSAGE \
  (2 * SPAWNER_MAX_KEY_FILE + 2 * SPAWNER_MAX_PASS + 64)
/* Kinds of child (argv[1] values) INIT may name. */
#define SPAWNER_MAX_CHILD_KINDS 2
#define SPAWNER_MIN_NICE (-20)
#define SPAWNER_MAX_NICE 19

typedef enum {
  /* main -> spawner */
  SPAWNER_REQ_INIT = 1,
  SPAWNER_REQ_SPAWN = 2,
  SPAWNER_REQ_KILL = 3,
  SPAWNER_REQ_REAP = 4,
  SPAWNER_REQ_NICE = 5,
  /* handshaker -> spawner */
  SPAWNER_REQ_KEY_REQUEST = 16,
  /* spawner -> main */
  SPAWNER_ANS_READY = 64,
  SPAWNER_ANS_SPAWNED = 65,
  SPAWNER_ANS_STATUS = 66,
  SPAWNER_ANS_OK = 67,
  SPAWNER_ANS_ERROR = 68, /* also to a handshaker */
  /* spawner -> handshaker */
  SPAWNER_ANS_KEYS = 80
} spawner_message_type;

/* REAP: how to collect the child. */
#define SPAWNER_REAP_TRY 0   /* waitpid WNOHANG once */
#define SPAWNER_REAP_WAIT 1  /* poll ~50 ms, then SIGKILL and wait */
#define SPAWNER_REAP_FORCE 2 /* SIGKILL, then as WAIT */

/* STATUS: what became of the child. */
#define SPAWNER_STATE_RUNNING 0 /* still running (REAP_TRY only) */
#define SPAWNER_STATE_REAPED 1  /* collected: |wait_status| is valid */
#define SPAWNER_STATE_GONE 2    /* not a child of the spawner (any more) */

typedef struct spawner_message {
  uint8_t type;
  /* INIT */
  char argv0[SPAWNER_MAX_PATH + 1];
  char child_arg[SPAWNER_MAX_CHILD_KINDS][SPAWNER_MAX_ARG + 1];
  char sandbox_user[SPAWNER_MAX_USER + 1];
  uint8_t seccomp;
  /* INIT, KEY_REQUEST */
  char key_file[SPAWNER_MAX_PATH + 1];
  char client_key_file[SPAWNER_MAX_PATH + 1];
  /* INIT, KEYS: secrets */
  char key_file_pass[SPAWNER_MAX_PASS + 1];
  char client_key_file_pass[SPAWNER_MAX_PASS + 1];
  /* KEYS: point into the parsed datagram */
  const uint8_t *key;
  size_t key_len;
  const uint8_t *client_key;
  size_t client_key_len;
  /* SPAWN */
  uint32_t socket_buffer;
  uint8_t kind; /* < SPAWNER_MAX_CHILD_KINDS */
  /* SPAWNED, KILL, REAP, NICE, STATUS */
  uint32_t pid;
  uint8_t how;   /* REAP */
  int nice;      /* NICE: SPAWNER_MIN_NICE..SPAWNER_MAX_NICE */
  uint8_t state; /* STATUS */
  uint32_t wait_status;
  char reason[SPAWNER_MAX_REASON + 1]; /* ERROR */
} spawner_message;

/* Parsers: 1, or 0 on any malformation (a type meant for another
 * direction, a length over its maximum, a value out of range, trailing
 * bytes). |out| is overwritten either way. */
int spawner_parse_main_request(const uint8_t *buf, size_t len,
                               spawner_message *out);
int spawner_parse_key_request(const uint8_t *buf, size_t len,
                              spawner_message *out);
int spawner_parse_main_answer(const uint8_t *buf, size_t len,
                              spawner_message *out);
/* KEYS or ERROR */
int spawner_parse_keys_answer(const uint8_t *buf, size_t len,
                              spawner_message *out);

/* spawner_build writes |msg| (its type and that type's fields) into |buf|
 * (capacity |cap|) and returns the length, or 0 if it does not fit or a
 * field is out of range. The parsers accept exactly what this builds. */
size_t spawner_build(uint8_t *buf, size_t cap, const spawner_message *msg);

/* spawner_message_init zeroes |msg| and sets its type. */
void spawner_message_init(spawner_message *msg, uint8_t type);
/* spawner_message_wipe erases every field of |msg| (passphrases). */
void spawner_message_wipe(spawner_message *msg);

#endif
