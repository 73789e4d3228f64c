/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hash chains and a free-slot stack over the caller's transaction slots
 * (see sw_txidx.h). Chains are slot numbers, SW_TX_NONE ends one; a slot
 * is in at most one chain, and sw_txidx_put() takes it out of it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/sw_hash.h"
#include "common/sw_txidx.h"

static const struct sw_txkey *key_of(const struct sw_txidx *x, uint32_t slot)
{
	return (const struct sw_txkey *)(const void *)(x->keys + (size_t)slot * x->stride);
}

static uint32_t key_hash(const struct sw_ip *ip, uint16_t port, const char *branch, size_t len)
{
	return sw_fnv1a(branch, len, sw_fnv1a(ip->a, sizeof(ip->a), SW_FNV1A_SEED ^ port));
}

int sw_txidx_init(struct sw_txidx *x, uint32_t max, const void *keys, size_t stride)
{
	uint32_t nb = 16;

	memset(x, 0, sizeof(*x));
	while (nb < max * 2)
		nb <<= 1;
	x->max = max;
	x->mask = nb - 1;
	x->keys = keys;
	x->stride = stride;
	x->buckets = malloc(sizeof(*x->buckets) * nb);
	x->next = malloc(sizeof(*x->next) * (max + 1));
	x->hash = malloc(sizeof(*x->hash) * (max + 1));
	x->free_slots = malloc(sizeof(*x->free_slots) * (max + 1));
	if (x->buckets == NULL || x->next == NULL || x->hash == NULL || x->free_slots == NULL) {
		sw_txidx_fini(x);
		return -ENOMEM;
	}
	memset(x->buckets, 0xff, sizeof(*x->buckets) * nb);
	memset(x->next, 0xff, sizeof(*x->next) * max);
	/* Lowest slots first: the first transactions get the first slots. */
	for (uint32_t i = 0; i < max; i++)
		x->free_slots[i] = max - 1 - i;
	x->free_top = max;
	return 0;
}

void sw_txidx_fini(struct sw_txidx *x)
{
	free(x->buckets);
	free(x->next);
	free(x->hash);
	free(x->free_slots);
	memset(x, 0, sizeof(*x));
}

uint32_t sw_txidx_find(const struct sw_txidx *x, const struct sw_ip *ip, uint16_t port,
		       const char *branch, size_t len)
{
	uint32_t h = key_hash(ip, port, branch, len);

	for (uint32_t i = x->buckets[h & x->mask]; i != SW_TX_NONE; i = x->next[i]) {
		const struct sw_txkey *k = key_of(x, i);

		if (x->hash[i] == h && k->port == port && k->branch_len == len &&
		    sw_ip_eq(&k->ip, ip) && memcmp(k->branch, branch, len) == 0)
			return i;
	}
	return SW_TX_NONE;
}

uint32_t sw_txidx_take(struct sw_txidx *x)
{
	uint32_t slot;

	if (x->free_top == 0)
		return SW_TX_NONE;
	slot = x->free_slots[--x->free_top];
	x->next[slot] = SW_TX_NONE;
	x->hash[slot] = 0;
	__atomic_store_n(&x->n_used, x->n_used + 1, __ATOMIC_RELAXED);
	return slot;
}

void sw_txidx_link(struct sw_txidx *x, uint32_t slot)
{
	const struct sw_txkey *k = key_of(x, slot);
	uint32_t h = key_hash(&k->ip, k->port, k->branch, k->branch_len);

	x->hash[slot] = h;
	x->next[slot] = x->buckets[h & x->mask];
	x->buckets[h & x->mask] = slot;
}

void sw_txidx_put(struct sw_txidx *x, uint32_t slot)
{
	uint32_t *p = &x->buckets[x->hash[slot] & x->mask];

	while (*p != SW_TX_NONE && *p != slot)
		p = &x->next[*p];
	if (*p == slot)
		*p = x->next[slot];
	x->next[slot] = SW_TX_NONE;
	x->free_slots[x->free_top++] = slot;
	__atomic_store_n(&x->n_used, x->n_used - 1, __ATOMIC_RELAXED);
}

int sw_txkey_set(struct sw_txkey *k, const struct sw_ip *ip, uint16_t port, const char *branch,
		 size_t len)
{
	if (len > sizeof(k->branch))
		return -E2BIG;
	k->ip = *ip;
	k->port = port;
	k->branch_len = (uint8_t)len;
	memcpy(k->branch, branch, len);
	return 0;
}
