/*
 * ldap_ad: the inside of the ldap action family, shared between ldap.c
 * (the one verb table, the connection, the pipeline, the OpenLDAP
 * flavour, and the verbs both flavours share) and ldap_ad.c (the Active
 * Directory flavour).  Nothing outside actions/ includes this.
 *
 * Dispatch: a batch always has one target, so one flavour; every verb
 * function in ldap.c looks at conn->ad first and hands AD batches to the
 * ldap_ad_* function of the same phase.
 *
 * Accounts (both flavours) are found with ldap_acct_submit/ldap_acct_take:
 * by user_attr = account (RFC 4515-escaped), or, for an undo on AD, by the
 * objectGUID the original action saw.  Exactly one entry must match;
 * several fail the act naming the count.  The state of an account is a
 * JSON object {dn, guid, sam, upn, uac, rid, pwd_last_set, pwd_changed},
 * each key present only when the directory returned it; guid is the
 * objectGUID as 32 hex digits in wire order.
 *
 * Protected accounts are refused (ACT_REFUSED) in every phase that finds
 * the account: the bind account, the customer's protected list, and on
 * AD krbtgt and Administrator by name and by RID (502, 500), and members
 * of the customer's protected_groups (checked again at apply).
 *
 * Ownership: functions returning json_t * hand over a reference; every
 * other pointer is borrowed for the duration of the call.  Errors go into
 * the act (act_fail); the batch-level return is 0 or -errno (connection
 * lost, timeout), as driver.h says.
 */
#ifndef CORDON_LDAP_AD_H
#define CORDON_LDAP_AD_H

#include <stddef.h>

#include <ldap.h>

#include "../agent/driver.h"

struct secret;

#define LDAP_WINDOW		512
#define LDAP_FILTER_MAX		8192
#define LDAP_TIMEOUT_S		30
#define LDAP_FIND_MAX		100	/* entries counted for "N match" */

#define AD_UF_ACCOUNTDISABLE	0x2
#define AD_RID_ADMINISTRATOR	500
#define AD_RID_KRBTGT		502

struct lconn {
	LDAP			*ld;
	const struct target	*t;
	const char		*base;
	const char		*attr;		/* uid, sAMAccountName, ... */
	const char		*bind_dn;
	const char		*policy_dn;
	const char		*group_base;	/* group lookups: base_dn */
	int			 ad;		/* flavour "ad" */
	int			 tls;		/* ldaps:// or StartTLS done */
	char			*pg_filter;	/* protected groups, one pass */
};

typedef int (*ldap_submit_fn)(struct lconn *, struct act *);
typedef void (*ldap_done_fn)(struct lconn *, struct act *, LDAPMessage *);

/* ldap.c */
const char	*ldap_opt_str(const struct target *, const char *);
int		 ldap_opt_bool(const struct target *, const char *);
/*
 * Runs submit on every act (a msgid, or -1 after act_fail), at most
 * LDAP_WINDOW outstanding, and done on each complete answer.
 */
int	ldap_pipeline(struct lconn *, struct act **, size_t, ldap_submit_fn,
	    ldap_done_fn);
int	ldap_acct_submit(struct lconn *, struct act *);
/* A base-scope read of before.dn for attrs: msgid, or -1 after act_fail. */
int	ldap_submit_base(struct lconn *, struct act *, char **attrs);
/*
 * The one entry of an ldap_acct_submit answer, after the identity (undo:
 * same entry as the original action) and protection checks.  Returns the
 * state, or NULL after failing or refusing the act.
 */
json_t	*ldap_acct_take(struct lconn *, struct act *, LDAPMessage *);

/*
 * Refuses (ACT_REFUSED) every act still OK or NOCHANGE whose before (the
 * account as check found it) is protected under the configuration of
 * now: a reload since the plan may have added it to the deny-list.
 */
void	ldap_acct_protect(struct lconn *, struct act **, size_t);
/* Drops from an account state all but its identity and extra's keys. */
void	ldap_acct_keep(json_t *st, const char *const *extra);

/* ldap_ad.c */
int	ldap_ad_target_check(const struct target *, char *err, size_t);
/* Appends the AD part of a search filter for the account; see top. */
int	ldap_ad_acct_filter(const struct lconn *, const struct act *,
	    struct buf *) WARN_UNUSED;
/* 1 when AD's own rules protect this account state (krbtgt, RID 500). */
int	ldap_ad_builtin_protected(const json_t *st);
int	ldap_ad_disable_check(void *, struct act **, size_t);
int	ldap_ad_disable_apply(void *, struct act **, size_t);
int	ldap_ad_disable_verify(void *, struct act **, size_t);
/* The unicodePwd write of reset_password for one act; a msgid or -1. */
int	ldap_ad_password_submit(struct lconn *, struct act *,
	    const struct secret *pw);
/*
 * Refuses (ACT_REFUSED) every act still OK or NOCHANGE whose before.dn is
 * a member of one of the customer's protected_groups, nested membership
 * and primary group included; fails them all if a group cannot be read.
 */
int	ldap_ad_protect_groups(struct lconn *, struct act **, size_t);
/* A subtree search for the entry whose objectGUID is before.guid. */
int	ldap_ad_guid_submit(struct lconn *, struct act *, char **attrs);
/* ldap_ad_large.c: paged results and range retrieval; see there. */
typedef int (*ldap_entry_fn)(struct lconn *, LDAPMessage *, void *);
typedef int (*ldap_value_fn)(struct lconn *, const struct berval *, void *);
/*
 * Every entry of a search, a page (<= 1000) at a time, to fn; a non-zero
 * return from fn stops and is returned.  0, or -errno with err set.
 */
int	ldap_paged_search(struct lconn *, const char *base, int scope,
	    const char *filter, char **attrs, ldap_entry_fn, void *,
	    char *err, size_t errlen);
/* Every value of attr (member) of dn, range after range, to fn. */
int	ldap_ad_values(struct lconn *, const char *dn, const char *attr,
	    ldap_value_fn, void *, char *err, size_t errlen);
/* ldap_ad_move.c: quarantine_ou. */
int	ldap_ad_dn_split(const char *dn, char **ret_rdn, char **ret_parent);
int	ldap_ad_dn_eq(const char *, const char *);
int	ldap_ad_move_check(void *, struct act **, size_t);
int	ldap_ad_move_apply(void *, struct act **, size_t);
int	ldap_ad_move_verify(void *, struct act **, size_t);
/* ldap_ad_hours.c: deny_logon_hours. */
int	ldap_ad_hours_check(void *, struct act **, size_t);
int	ldap_ad_hours_apply(void *, struct act **, size_t);
int	ldap_ad_hours_verify(void *, struct act **, size_t);
/* "privileged": the well-known AD groups, NULL-terminated. */
extern const char *const ldap_ad_privileged[];

#endif
