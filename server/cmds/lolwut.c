/* lolwut.c: LOLWUT [VERSION v] [args...], as Redis 7.0 draws it.
 *
 * VERSION 5 draws Georg Nees's "Schotter" (squares that tilt and drift more
 * on each lower row) in Braille characters; VERSION 6 a skyline of the
 * 8-bit games in the four grays of a colour terminal; any other version,
 * and no VERSION at all, prints "Redis ver. 7.0.15". The drawings take
 * their disorder from rand(), as Redis does, so only their shape, their
 * first two rows of squares (version 5) and the text around them are
 * deterministic. The arithmetic keeps Redis's float and double types so
 * that the deterministic parts match Redis byte for byte. One difference:
 * very tall Schotter pictures are cropped (LOLWUT_MAX_SCHOTTER_HEIGHT). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/base/zmalloc.h"
#include "server/cmds/cmds.h"
#include "server/core/server.h"

/* Bounds that keep LOLWUT cheap whatever the arguments (Redis's). */
#define LOLWUT_MAX_COLS 1000
#define LOLWUT_MAX_SQUARES 200
#define LOLWUT_MAX_ROWS 1000
/* Schotter's canvas grows with the squares' side times their rows: Redis
 * would draw 2000 x 399204 pixels (a 300 MB reply) for 1000 columns, one
 * square per row and 200 rows. Redoubt crops the picture at this many
 * pixel rows (1000 lines of text). Every picture whose output has no
 * random part (at most two rows of squares) fits. */
#define LOLWUT_MAX_SCHOTTER_HEIGHT 4000

/* ------------------------------------------------------------------ */
/* Canvas                                                               */
/* ------------------------------------------------------------------ */

typedef struct lolwut_canvas {
  int width;
  int height;
  char *pixels; /* width * height colours */
} lolwut_canvas;

static lolwut_canvas *lolwut_canvas_new(int width, int height, int color) {
  lolwut_canvas *canvas = zmalloc(sizeof(*canvas));
  canvas->width = width;
  canvas->height = height;
  canvas->pixels = zmalloc((size_t)width * (size_t)height);
  memset(canvas->pixels, color, (size_t)width * (size_t)height);
  return canvas;
}

static void lolwut_canvas_free(lolwut_canvas *canvas) {
  zfree(canvas->pixels);
  zfree(canvas);
}

/* Drawing outside the canvas is allowed and does nothing. */
static void lolwut_draw_pixel(lolwut_canvas *canvas, int x, int y, int color) {
  if (x < 0 || x >= canvas->width || y < 0 || y >= canvas->height) {
    return;
  }
  canvas->pixels[x + y * canvas->width] = (char)color;
}

static int lolwut_get_pixel(const lolwut_canvas *canvas, int x, int y) {
  if (x < 0 || x >= canvas->width || y < 0 || y >= canvas->height) {
    return 0;
  }
  return canvas->pixels[x + y * canvas->width];
}

/* Bresenham's line from (x1,y1) to (x2,y2), both ends included. */
static void lolwut_draw_line(lolwut_canvas *canvas, int x1, int y1, int x2,
                             int y2, int color) {
  int dx = abs(x2 - x1);
  int dy = abs(y2 - y1);
  int sx = x1 < x2 ? 1 : -1;
  int sy = y1 < y2 ? 1 : -1;
  int err = dx - dy;
  for (;;) {
    lolwut_draw_pixel(canvas, x1, y1, color);
    if (x1 == x2 && y1 == y2) {
      break;
    }
    int e2 = err * 2;
    if (e2 > -dy) {
      err -= dy;
      x1 += sx;
    }
    if (e2 < dx) {
      err += dx;
      y1 += sy;
    }
  }
}

/* A square of side |size| centred on (x,y), turned by |angle| radians: its
 * corners are on the circle through (sin k, cos k) from k = 45 degrees. */
static void lolwut_draw_square(lolwut_canvas *canvas, int x, int y, float size,
                               float angle, int color) {
  int px[4], py[4];
  /* The square inscribed in the unit circle has a side of sqrt(2). */
  size /= 1.4142135623;
  size = (float)round(size);
  float k = (float)(M_PI / 4 + angle);
  for (int j = 0; j < 4; j++) {
    px[j] = (int)round(sin(k) * size + x);
    py[j] = (int)round(cos(k) * size + y);
    k = (float)(k + M_PI / 2);
  }
  for (int j = 0; j < 4; j++) {
    lolwut_draw_line(canvas, px[j], py[j], px[(j + 1) % 4], py[(j + 1) % 4],
                     color);
  }
}

/* ------------------------------------------------------------------ */
/* Version 5: Schotter                                                  */
/* ------------------------------------------------------------------ */

/* lolwut_braille appends the UTF-8 Braille character for the 2x4 pixels of
 * |dots|; bit b of |dots| is dot b+1 of the cell: bits 0-2 and 6 the left
 * column from the top, 3-5 and 7 the right one. */
static sds lolwut_braille(sds text, int dots) {
  int code = 0x2800 + dots;
  char utf8[3];
  utf8[0] = (char)(0xE0 | (code >> 12));
  utf8[1] = (char)(0x80 | ((code >> 6) & 0x3F));
  utf8[2] = (char)(0x80 | (code & 0x3F));
  return sds_cat_len(text, utf8, 3);
}

static lolwut_canvas *lolwut_draw_schotter(int console_cols,
                                           int squares_per_row,
                                           int squares_per_col) {
  int canvas_width = console_cols * 2;
  int padding = canvas_width > 4 ? 2 : 0;
  float square_side =
      (float)(canvas_width - padding * 2) / (float)squares_per_row;
  int canvas_height =
      (int)(square_side * (float)squares_per_col + (float)(padding * 2));
  if (canvas_height > LOLWUT_MAX_SCHOTTER_HEIGHT) {
    canvas_height = LOLWUT_MAX_SCHOTTER_HEIGHT;
  }
  lolwut_canvas *canvas = lolwut_canvas_new(canvas_width, canvas_height, 0);
  for (int y = 0; y < squares_per_col; y++) {
    for (int x = 0; x < squares_per_row; x++) {
      int sx = (int)((float)x * square_side + square_side / 2 + (float)padding);
      int sy = (int)((float)y * square_side + square_side / 2 + (float)padding);
      float angle = 0;
      /* The first two rows stay in order; below, disorder grows with y. */
      if (y > 1) {
        float r1 =
            (float)rand() / (float)RAND_MAX / (float)squares_per_col * (float)y;
        float r2 =
            (float)rand() / (float)RAND_MAX / (float)squares_per_col * (float)y;
        float r3 =
            (float)rand() / (float)RAND_MAX / (float)squares_per_col * (float)y;
        if (rand() % 2) {
          r1 = -r1;
        }
        if (rand() % 2) {
          r2 = -r2;
        }
        if (rand() % 2) {
          r3 = -r3;
        }
        angle = r1;
        sx = (int)((float)sx + r2 * square_side / 3);
        sy = (int)((float)sy + r3 * square_side / 3);
      }
      lolwut_draw_square(canvas, sx, sy, square_side, angle, 1);
    }
  }
  return canvas;
}

static sds lolwut_render_braille(const lolwut_canvas *canvas) {
  sds text = sds_empty();
  for (int y = 0; y < canvas->height; y += 4) {
    for (int x = 0; x < canvas->width; x += 2) {
      int dots = 0;
      dots |= lolwut_get_pixel(canvas, x, y) ? 1 << 0 : 0;
      dots |= lolwut_get_pixel(canvas, x, y + 1) ? 1 << 1 : 0;
      dots |= lolwut_get_pixel(canvas, x, y + 2) ? 1 << 2 : 0;
      dots |= lolwut_get_pixel(canvas, x + 1, y) ? 1 << 3 : 0;
      dots |= lolwut_get_pixel(canvas, x + 1, y + 1) ? 1 << 4 : 0;
      dots |= lolwut_get_pixel(canvas, x + 1, y + 2) ? 1 << 5 : 0;
      dots |= lolwut_get_pixel(canvas, x, y + 3) ? 1 << 6 : 0;
      dots |= lolwut_get_pixel(canvas, x + 1, y + 3) ? 1 << 7 : 0;
      text = lolwut_braille(text, dots);
    }
    /* As Redis: the test compares y, not the row of cells, with the last
     * pixel row, so the text ends with a newline unless height % 4 == 1. */
    if (y != canvas->height - 1) {
      text = sds_cat_len(text, "\n", 1);
    }
  }
  return text;
}

/* lolwut_parse_args parses up to |n| optional integers from argv[1..]
 * (after VERSION v) into |values|, each clamped to [1, max[i]]. Replies
 * and returns 0 on a non-integer. */
static int lolwut_parse_args(client *c, robj **argv, int argc, long *values,
                             const long *max, int n) {
  for (int i = 0; i < n; i++) {
    if (argc > i + 1 && get_long_from_object_or_reply(
                            c, argv[i + 1], &values[i], NULL) != C_OK) {
      return 0;
    }
  }
  for (int i = 0; i < n; i++) {
    if (values[i] < 1) {
      values[i] = 1;
    }
    if (values[i] > max[i]) {
      values[i] = max[i];
    }
  }
  return 1;
}

/* LOLWUT VERSION 5 [columns] [squares-per-row] [squares-per-col] */
static void lolwut5(client *c, robj **argv, int argc) {
  long values[3] = {66, 8, 12};
  static const long max[3] = {LOLWUT_MAX_COLS, LOLWUT_MAX_SQUARES,
                              LOLWUT_MAX_SQUARES};
  if (!lolwut_parse_args(c, argv, argc, values, max, 3)) {
    return;
  }
  lolwut_canvas *canvas =
      lolwut_draw_schotter((int)values[0], (int)values[1], (int)values[2]);
  sds rendered = lolwut_render_braille(canvas);
  rendered = sds_cat(
      rendered, "\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. ");
  rendered = sds_cat(rendered, REDOUBT_VERSION);
  rendered = sds_cat_len(rendered, "\n", 1);
  add_reply_verbatim(c, rendered, sds_len(rendered), "txt");
  sds_free(rendered);
  lolwut_canvas_free(canvas);
}

/* ------------------------------------------------------------------ */
/* Version 6: a skyline                                                 */
/* ------------------------------------------------------------------ */

/* Colours 0..3: black, two grays, white; foreground and background both
 * set so that terminals agree. */
static sds lolwut_render_grays(const lolwut_canvas *canvas) {
  static const char *const escapes[4] = {"0;30;40m", "0;90;100m", "0;37;47m",
                                         "0;97;107m"};
  sds text = sds_empty();
  for (int y = 0; y < canvas->height; y++) {
    for (int x = 0; x < canvas->width; x++) {
      int color = lolwut_get_pixel(canvas, x, y);
      const char *escape =
          color >= 0 && color <= 3 ? escapes[color] : escapes[0];
      text = sds_cat_printf(text, "\033[%s \033[0m", escape);
    }
    if (y != canvas->height - 1) {
      text = sds_cat_len(text, "\n", 1);
    }
  }
  return text;
}

typedef struct lolwut_skyscraper {
  int xoff;
  int width;
  int height;
  int windows; /* draw windows (random grays) */
  int color;
} lolwut_skyscraper;

static void lolwut_draw_skyscraper(lolwut_canvas *canvas,
                                   const lolwut_skyscraper *si) {
  int starty = canvas->height - 1;
  int endy = starty - si->height + 1;
  for (int y = starty; y >= endy; y--) {
    for (int x = si->xoff; x < si->xoff + si->width; x++) {
      /* The roof is four pixels narrower. */
      if (y == endy && (x <= si->xoff + 1 || x >= si->xoff + si->width - 2)) {
        continue;
      }
      int color = si->color;
      if (si->windows && x > si->xoff + 1 && x < si->xoff + si->width - 2 &&
          y > endy + 1 && y < starty - 1) {
        int relx = x - (si->xoff + 1);
        int rely = y - (endy + 1);
        /* Windows two pixels wide and one tall: terminal cells are not
         * square. Both pixels of a window share its colour. */
        if (relx / 2 % 2 && rely % 2) {
          do {
            color = 1 + rand() % 2;
          } while (color == si->color);
          if (relx % 2) {
            color = lolwut_get_pixel(canvas, x - 1, y);
          }
        }
      }
      lolwut_draw_pixel(canvas, x, y, color);
    }
  }
}

static void lolwut_draw_skyline(lolwut_canvas *canvas) {
  lolwut_skyscraper si;
  /* Windowless buildings behind, the lighter gray farthest. */
  for (int color = 2; color >= 1; color--) {
    si.color = color;
    for (int offset = -10; offset < canvas->width;) {
      offset += rand() % 8;
      si.xoff = offset;
      si.width = 10 + rand() % 9;
      if (color == 2) {
        si.height = canvas->height / 2 + rand() % canvas->height / 2;
      } else {
        si.height = canvas->height / 2 + rand() % canvas->height / 3;
      }
      si.windows = 0;
      lolwut_draw_skyscraper(canvas, &si);
      offset += color == 2 ? si.width / 2 : si.width + 1;
    }
  }
  /* Black buildings with windows in front. */
  si.color = 0;
  for (int offset = -10; offset < canvas->width;) {
    offset += rand() % 8;
    si.xoff = offset;
    si.width = 5 + rand() % 14;
    if (si.width % 4) {
      si.width += si.width % 3;
    }
    si.height = canvas->height / 3 + rand() % canvas->height / 2;
    si.windows = 1;
    lolwut_draw_skyscraper(canvas, &si);
    offset += si.width + 5;
  }
}

/* LOLWUT VERSION 6 [columns] [rows] */
static void lolwut6(client *c, robj **argv, int argc) {
  long values[2] = {80, 20};
  static const long max[2] = {LOLWUT_MAX_COLS, LOLWUT_MAX_ROWS};
  if (!lolwut_parse_args(c, argv, argc, values, max, 2)) {
    return;
  }
  lolwut_canvas *canvas = lolwut_canvas_new((int)values[0], (int)values[1], 3);
  lolwut_draw_skyline(canvas);
  sds rendered = lolwut_render_grays(canvas);
  rendered = sds_cat(rendered,
                     "\nDedicated to the 8 bit game developers of past and "
                     "present.\nOriginal 8 bit image from Plaguemon by "
                     "hikikomori. Redis ver. ");
  rendered = sds_cat(rendered, REDOUBT_VERSION);
  rendered = sds_cat_len(rendered, "\n", 1);
  add_reply_verbatim(c, rendered, sds_len(rendered), "txt");
  sds_free(rendered);
  lolwut_canvas_free(canvas);
}

/* ------------------------------------------------------------------ */
/* LOLWUT                                                               */
/* ------------------------------------------------------------------ */

static void lolwut_command(client *c) {
  const char *version = REDOUBT_VERSION;
  char version_buf[64];
  robj **argv = c->argv;
  int argc = c->argc;
  if (argc >= 3 && !strcasecmp(argv[1]->ptr, "version")) {
    long v;
    if (get_long_from_object_or_reply(c, argv[2], &v, NULL) != C_OK) {
      return;
    }
    /* Redis turns the number into "<v>.0.0" (as unsigned) and dispatches
     * on that string as on its own version. */
    snprintf(version_buf, sizeof(version_buf), "%u.0.0", (unsigned int)v);
    version = version_buf;
    /* The drawings take their own arguments after VERSION v. */
    argv += 2;
    argc -= 2;
  }
  if ((version[0] == '5' && version[1] == '.' && version[2] != '9') ||
      (version[0] == '4' && version[1] == '.' && version[2] == '9')) {
    lolwut5(c, argv, argc);
  } else if ((version[0] == '6' && version[1] == '.' && version[2] != '9') ||
             (version[0] == '5' && version[1] == '.' && version[2] == '9')) {
    lolwut6(c, argv, argc);
  } else {
    sds rendered = sds_new("Redis ver. " REDOUBT_VERSION "\n");
    add_reply_verbatim(c, rendered, sds_len(rendered), "txt");
    sds_free(rendered);
  }
}

redis_command lolwut_commands[] = {
    {.declared_name = "lolwut",
     .summary = "Display some computer art and the Redis version",
     .since = "5.0.0",
     .group = "server",
     .proc = lolwut_command,
     .arity = -1,
     .flags = CMD_READONLY | CMD_FAST,
     .acl_categories = ACL_CATEGORY_READ | ACL_CATEGORY_FAST},
    {0}};
