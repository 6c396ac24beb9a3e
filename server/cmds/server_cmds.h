/* server_cmds.h: INFO helpers shared with other reporters (sentinel, crash
 * report). gen_redis_info_string and info_register_section are in
 * server.h. */
#ifndef REDOUBT_SERVER_CMDS_H
#define REDOUBT_SERVER_CMDS_H

#include "server/core/server.h"

/* info_gen_section_dict turns INFO arguments into a set of lower-case
 * section names ("default" expands, "all"/"everything" set the flags).
 * No arguments means the default sections. Free with dict_release. */
dict *info_gen_section_dict(robj **argv, int argc, int *out_all,
                            int *out_everything);

#endif
