/* list.c: generic doubly linked list (see list.h). */
#include "server/ds/list.h"

#include <stddef.h>

#include "server/base/zmalloc.h"

list *list_create(void) {
  list *l = zmalloc(sizeof(*l));
  l->head = l->tail = NULL;
  l->len = 0;
  l->dup = NULL;
  l->free = NULL;
  l->match = NULL;
  return l;
}

void list_empty(list *l) {
  list_node *current = l->head;
  unsigned long len = l->len;
  while (len-- > 0) {
    list_node *next = current->next;
    if (l->free != NULL) {
      l->free(current->value);
    }
    zfree(current);
    current = next;
  }
  l->head = l->tail = NULL;
  l->len = 0;
}

void list_release(list *l) {
  if (l == NULL) {
    return;
  }
  list_empty(l);
  zfree(l);
}

list *list_add_node_head(list *l, void *value) {
  list_node *node = zmalloc(sizeof(*node));
  node->value = value;
  if (l->len == 0) {
    l->head = l->tail = node;
    node->prev = node->next = NULL;
  } else {
    node->prev = NULL;
    node->next = l->head;
    l->head->prev = node;
    l->head = node;
  }
  l->len++;
  return l;
}

void list_link_node_tail(list *l, list_node *node) {
  if (l->len == 0) {
    l->head = l->tail = node;
    node->prev = node->next = NULL;
  } else {
    node->prev = l->tail;
    node->next = NULL;
    l->tail->next = node;
    l->tail = node;
  }
  l->len++;
}

list *list_add_node_tail(list *l, void *value) {
  list_node *node = zmalloc(sizeof(*node));
  node->value = value;
  list_link_node_tail(l, node);
  return l;
}

void list_unlink_node(list *l, list_node *node) {
  if (node->prev != NULL) {
    node->prev->next = node->next;
  } else {
    l->head = node->next;
  }
  if (node->next != NULL) {
    node->next->prev = node->prev;
  } else {
    l->tail = node->prev;
  }
  node->next = node->prev = NULL;
  l->len--;
}

void list_del_node(list *l, list_node *node) {
  list_unlink_node(l, node);
  if (l->free != NULL) {
    l->free(node->value);
  }
  zfree(node);
}

void list_rewind(list *l, list_iter *li) {
  li->next = l->head;
  li->direction = AL_START_HEAD;
}

void list_rewind_tail(list *l, list_iter *li) {
  li->next = l->tail;
  li->direction = AL_START_TAIL;
}

list_node *list_next(list_iter *iter) {
  list_node *current = iter->next;
  if (current != NULL) {
    iter->next =
        iter->direction == AL_START_HEAD ? current->next : current->prev;
  }
  return current;
}

list_node *list_search_key(list *l, void *key) {
  list_iter iter;
  list_node *node;
  list_rewind(l, &iter);
  while ((node = list_next(&iter)) != NULL) {
    if (l->match != NULL) {
      if (l->match(node->value, key)) {
        return node;
      }
    } else if (key == node->value) {
      return node;
    }
  }
  return NULL;
}

list_node *list_index(list *l, long index) {
  list_node *n;
  if (index < 0) {
    index = (-index) - 1;
    n = l->tail;
    while (index-- > 0 && n != NULL) {
      n = n->prev;
    }
  } else {
    n = l->head;
    while (index-- > 0 && n != NULL) {
      n = n->next;
    }
  }
  return n;
}

void list_rotate_tail_to_head(list *l) {
  if (l->len <= 1) {
    return;
  }
  list_node *tail = l->tail;
  l->tail = tail->prev;
  l->tail->next = NULL;
  l->head->prev = tail;
  tail->prev = NULL;
  tail->next = l->head;
  l->head = tail;
}

void list_rotate_head_to_tail(list *l) {
  if (l->len <= 1) {
    return;
  }
  list_node *head = l->head;
  l->head = head->next;
  l->head->prev = NULL;
  l->tail->next = head;
  head->next = NULL;
  head->prev = l->tail;
  l->tail = head;
}
