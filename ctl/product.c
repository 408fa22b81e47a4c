/*
 * product.c: gymctl product (issue 15): the catalogue from the command line.
 *   gymctl product list
 *   gymctl product add --kind membership|class_pack --name NAME --price-fen N --days N
 *                      [--credits N]
 *   gymctl product set ID [--name NAME] [--price-fen N] [--days N] [--credits N]
 *                      [--active true|false]
 * The same lib calls as POST/PATCH /admin/products, audited with the actor
 * operator "gymctl".  Exit 0 on success, 1 when refused or on a database
 * error, 2 for bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "products.h"

static const struct gym_actor ctl_actor = { "operator", 0, NULL, "gymctl", NULL, NULL };

/* A whole number in [min, max] from s into *out; 0 when it is not one. */
static int
number(const char *s, long long min, long long max, long long *out)
{
	char *end;

	if (s == NULL || *s == '\0')
		return 0;
	*out = strtoll(s, &end, 10);
	return *end == '\0' && *out >= min && *out <= max;
}

static void
print(const struct gym_product *p)
{
	char price[24];

	printf("%lld\t%s\t%s\t%s\t%d\t%d\t%s\n", p->id, gym_product_kind_name(p->kind), p->name,
	    gym_price_format(p->price_fen, price, sizeof(price)), p->days, p->credits,
	    p->active ? "active" : "inactive");
}

static int
list(struct gym_db *db)
{
	struct gym_product *ps = calloc(200, sizeof(*ps));
	int n = 0, rc = 0;

	if (ps == NULL || gym_product_list(db, 1, ps, 200, &n) != GYM_OK) {
		fprintf(stderr, "gymctl: could not list products\n");
		rc = 1;
	}
	for (int i = 0; i < n; i++)
		print(&ps[i]);
	free(ps);
	return rc;
}

static int
add(struct gym_db *db, int argc, char **argv)
{
	struct gym_product p;
	const char *kind = gym_ctl_opt(argc, argv, "--kind"), *name = gym_ctl_opt(argc, argv,
	    "--name"), *credits = gym_ctl_opt(argc, argv, "--credits");
	long long price, days, c = 0;
	enum gym_err e;

	memset(&p, 0, sizeof(p));
	if (!gym_product_kind_parse(kind, &p.kind) || p.kind == GYM_PRODUCT_TRIAL ||
	    name == NULL || strlen(name) >= sizeof(p.name) ||
	    !number(gym_ctl_opt(argc, argv, "--price-fen"), 1, 10000000, &price) ||
	    !number(gym_ctl_opt(argc, argv, "--days"), 1, 3660, &days) ||
	    (credits != NULL && !number(credits, 1, 1000, &c))) {
		fprintf(stderr, "gymctl: product add --kind membership|class_pack --name NAME "
		    "--price-fen N --days N [--credits N]\n");
		return 2;
	}
	snprintf(p.name, sizeof(p.name), "%s", name);
	p.price_fen = price;
	p.days = (int)days;
	p.credits = (int)c;
	if ((e = gym_product_create(db, &ctl_actor, &p)) != GYM_OK) {
		fprintf(stderr, "gymctl: could not add the product: %s\n", gym_strerror(e));
		return 1;
	}
	print(&p);
	return 0;
}

static int
set(struct gym_db *db, int argc, char **argv)
{
	struct gym_product_change ch;
	struct gym_product p;
	const char *active = gym_ctl_opt(argc, argv, "--active"), *v;
	long long id, n;
	enum gym_err e;

	memset(&ch, 0, sizeof(ch));
	ch.active = -1;
	if (argc < 1 || !number(argv[0], 1, 1000000000000000LL, &id))
		goto bad;
	ch.name = gym_ctl_opt(argc, argv, "--name");
	if ((v = gym_ctl_opt(argc, argv, "--price-fen")) != NULL) {
		if (!number(v, 1, 10000000, &n))
			goto bad;
		ch.price_fen = n;
	}
	if ((v = gym_ctl_opt(argc, argv, "--days")) != NULL) {
		if (!number(v, 1, 3660, &n))
			goto bad;
		ch.days = (int)n;
	}
	if ((v = gym_ctl_opt(argc, argv, "--credits")) != NULL) {
		if (!number(v, 1, 1000, &n))
			goto bad;
		ch.credits = (int)n;
	}
	if (active != NULL) {
		if (strcmp(active, "true") != 0 && strcmp(active, "false") != 0)
			goto bad;
		ch.active = strcmp(active, "true") == 0;
	}
	if (ch.name == NULL && ch.price_fen == 0 && ch.days == 0 && ch.credits == 0 &&
	    ch.active < 0)
		goto bad;
	if ((e = gym_product_update(db, &ctl_actor, id, &ch, &p)) != GYM_OK) {
		fprintf(stderr, "gymctl: could not change product %lld: %s\n", id, gym_strerror(e));
		return 1;
	}
	print(&p);
	return 0;
bad:
	fprintf(stderr, "gymctl: product set ID [--name NAME] [--price-fen N] [--days N] "
	    "[--credits N] [--active true|false]\n");
	return 2;
}

int
gym_ctl_product(struct gym_db *db, int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "list") == 0)
		return list(db);
	if (argc >= 1 && strcmp(argv[0], "add") == 0)
		return add(db, argc - 1, argv + 1);
	if (argc >= 1 && strcmp(argv[0], "set") == 0)
		return set(db, argc - 1, argv + 1);
	fprintf(stderr, "usage: gymctl product list | add ... | set ID ...\n");
	return 2;
}
