/* list.h: a doubly linked list of void* (clients, reply blocks, ...). */
#ifndef REDOUBT_LIST_H
#define REDOUBT_LIST_H

typedef struct list_node {
  struct list_node *prev;
  struct list_node *next;
  void *value;
} list_node;

typedef struct list_iter {
  list_node *next;
  int direction;
} list_iter;

typedef struct list {
  list_node *head;
  list_node *tail;
  void *(*dup)(void *ptr);
  void (*free)(void *ptr);
  int (*match)(void *ptr, void *key);
  unsigned long len;
} list;

#define AL_START_HEAD 0
#define AL_START_TAIL 1

#define list_length(l) ((l)->len)
#define list_first(l) ((l)->head)
#define list_last(l) ((l)->tail)
#define list_prev_node(n) ((n)->prev)
#define list_next_node(n) ((n)->next)
#define list_node_value(n) ((n)->value)
#define list_set_free_method(l, m) ((l)->free = (m))
#define list_set_dup_method(l, m) ((l)->dup = (m))
#define list_set_match_method(l, m) ((l)->match = (m))

list *list_create(void);
void list_release(list *l); /* frees values with l->free */
void list_empty(list *l);
list *list_add_node_head(list *l, void *value);
list *list_add_node_tail(list *l, void *value);
/* list_link_node_tail appends an already allocated node (no malloc). */
void list_link_node_tail(list *l, list_node *node);
void list_unlink_node(list *l, list_node *node); /* does not free */
void list_del_node(list *l, list_node *node);    /* frees value and node */
list_node *list_search_key(list *l, void *key);
list_node *list_index(list *l, long index);
void list_rewind(list *l, list_iter *li);
void list_rewind_tail(list *l, list_iter *li);
list_node *list_next(list_iter *iter);
void list_rotate_tail_to_head(list *l);
void list_rotate_head_to_tail(list *l);

#endif
