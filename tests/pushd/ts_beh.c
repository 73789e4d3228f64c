/* SPDX-License-Identifier: BSD-3-Clause */
/* Test server: what to answer per device token (set / once / kind / clear). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/pushd/ts.h"

#define MAX_TOKS 256
#define MAX_ONCE 8
static struct tok {
	char token[256];
	int kind; /* 0 not said, 1 a VoIP (PushKit) token, 2 a regular one */
	int has_set;
	struct beh set;
	int n_once;
	struct beh once[MAX_ONCE];
} toks[MAX_TOKS];
static unsigned n_toks;

static struct tok *tok_find(const char *t, int create)
{
	for (unsigned i = 0; i < n_toks; i++)
		if (strcmp(toks[i].token, t) == 0)
			return &toks[i];
	if (!create || n_toks == MAX_TOKS)
		return NULL;
	snprintf(toks[n_toks].token, sizeof(toks[n_toks].token), "%s", t);
	return &toks[n_toks++];
}

static int beh_parse(const char *spec, struct beh *b)
{
	char word[32] = "";
	char arg[64] = "";

	memset(b, 0, sizeof(*b));
	if (sscanf(spec, "%31s %63s", word, arg) < 1)
		return -1;
	if (!strcmp(word, "stall"))
		b->kind = B_STALL;
	else if (!strcmp(word, "reset"))
		b->kind = B_RESET;
	else if (!strcmp(word, "goaway"))
		b->kind = B_GOAWAY;
	else {
		b->kind = B_ANSWER;
		b->code = atoi(word);
		if (b->code < 200 || b->code > 599)
			return -1;
		if (b->code == 429)
			b->retry_after = atoi(arg);
		else
			snprintf(b->reason, sizeof(b->reason), "%s", arg);
	}
	return 0;
}
int ts_beh_set(const char *token, const char *spec, int once)
{
	struct beh b;
	struct tok *t = tok_find(token, 1);

	if (!t || beh_parse(spec, &b) != 0)
		return -1;
	if (!once) {
		t->set = b;
		t->has_set = 1;
	} else if (t->n_once < MAX_ONCE) {
		t->once[t->n_once++] = b;
	} else {
		return -1;
	}
	return 0;
}

int ts_beh_set_kind(const char *token, const char *kind)
{
	struct tok *t = tok_find(token, 1);

	if (!t || (strcmp(kind, "voip") && strcmp(kind, "regular")))
		return -1;
	t->kind = kind[0] == 'v' ? 1 : 2;
	return 0;
}

int ts_beh_kind(const char *token)
{
	const struct tok *t = tok_find(token, 0);

	return t ? t->kind : 0;
}

void ts_beh_clear(void)
{
	n_toks = 0;
	memset(toks, 0, sizeof(toks));
}

void ts_beh_next(const char *token, struct beh *b)
{
	struct tok *t = tok_find(token, 0);

	if (!t)
		return;
	if (t->n_once) {
		*b = t->once[0];
		memmove(t->once, t->once + 1, sizeof(t->once[0]) * (size_t)--t->n_once);
	} else if (t->has_set) {
		*b = t->set;
	}
}
