/*
 * What the files of the b2bua share: a call with its B legs (forks) and the
 * in-dialog requests crossing between its two dialogs (relays). SIP thread
 * only. Include it before any sofia header: it sets the b2bua's magic types.
 */
#ifndef SIPREG_B2BUA_INTERNAL_H
#define SIPREG_B2BUA_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct call;
struct fork;
struct relay;
#define NTA_LEG_MAGIC_T	     void
#define NTA_OUTGOING_MAGIC_T void
#define NTA_INCOMING_MAGIC_T struct call
#define SU_TIMER_ARG_T	     void

#include <sofia-sip/nta.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_extra.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport.h>

#include "b2bua/b2bua.h"
#include "b2bua/sdp_origin.h"
#include "b2bua/uac_auth.h"
#include "sip/node.h"
#include "cisco/service.h"
#include "daemon/config.h"
#include "daemon/digest.h"
#include "daemon/log.h"
#include "daemon/text.h"
#include "daemon/thread.h"
#include "registrar/registrar.h"
#include "sip/dialog.h"
#include "sip/grammar.h"
#include "sip/hosts.h"
#include "sip/reply.h"
#include "store/secret.h"

/* Forwards one call may follow before it is refused as a loop (482). */
#define MAX_HOPS 5

enum call_state {
	CALL_RINGING,  /* B legs tried, no final answer yet */
	CALL_ANSWERED, /* a 2xx crossed; waiting for or past the caller's ACK */
	CALL_ENDED,
};

/* One B leg: the INVITE to one binding of the called line. */
struct fork {
	struct fork *next;
	struct call *call;
	nta_leg_t *leg;
	nta_outgoing_t *orq;
	int status;   /* final status, 0 while pending */
	unsigned gen; /* the routing round it belongs to (see call.gen) */
	bool authed;  /* its INVITE was sent again with the callee's credentials */
	char *ident;  /* the caller as Remote-Party-ID and P-Asserted-Identity show it */
	char *route;  /* the trunk's outbound proxy, or NULL */
	bool trunk;   /* toward the call's trunk (c->trunk) */
	bool tls;     /* its INVITE goes over TLS */
	bool node;    /* toward the other node of the pair (its node transport) */
	char target[256];
};

/* An in-dialog request crossing to the other dialog, until its final response. */
struct relay {
	struct relay *next;
	struct call *call;
	nta_incoming_t *irq;
	nta_outgoing_t *orq;
	bool invite;
	bool from_a;
	/* An INVITE with Replaces: the phone's new dialog took this one's place. */
	nta_leg_t *replaced;
	sip_contact_t *contact; /* our Contact toward the other side, naming the new phone */
	char *by_display;	/* the new phone's line: display name (in the call's home), */
	char by_dn[33], by_device[80], by_contact[256]; /* DN, device and Contact */
};

struct call {
	struct call *next;
	b2bua_t *b;
	char id[64];  /* NODE-RUN-N: in the log, the call list and its records */
	unsigned seq; /* N */
	enum call_state state;
	su_home_t *home;
	nta_incoming_t *irq; /* the caller's INVITE, until its final response */
	nta_leg_t *a;	     /* the dialog with the caller */
	struct fork *forks;
	struct fork *winner; /* the B leg that answered */
	struct relay *relays;
	uint32_t b_invite_cseq; /* CSeq of the answered INVITE on the B side (for its ACK) */
	bool b_ack_pending;	/* the B side's 2xx awaits the caller's ACK */
	/* A re-INVITE answered 2xx: the ACK from the side that sent it crosses over. */
	bool reinvite_from_a;
	uint32_t reinvite_cseq;
	nta_incoming_t *reinvite_irq; /* kept until its ACK arrives (nta hands it there) */
	/* Our Contact toward the caller (as the callee's line) and toward the callees. */
	sip_contact_t *to_caller, *to_callee;
	su_timer_t *ring_timer;
	char caller[33], callee[33], device[80];
	char trunk[65];	      /* the trunk of an outbound or inbound call, "" none */
	char *caller_display; /* the calling line's display name, or NULL */
	/* Where the call rings now: callee, or the line a forward led to. */
	char target[33];
	char path[MAX_HOPS + 1][33]; /* lines visited, for loop detection */
	unsigned hops;
	unsigned gen;	       /* incremented when a forward replaces the B legs */
	unsigned legs;	       /* B legs opened so far (at most cfg.max_forks) */
	unsigned max_forwards; /* Max-Forwards of the B legs: the caller's less one */
	char forwarded[16];    /* reason of the last forward */
	char *diversion;       /* Diversion header value, newest first */
	/* Dialogs taken out of the call (replaced, or a failed replacement), freed with it. */
	nta_leg_t *retired[4];
	unsigned n_retired;
	char result[24]; /* for the call record */
	time_t started, answered;
	/* The SDP origin each side sees, whoever the description comes from. */
	struct sdp_origin sdp_to_a, sdp_to_b;
	bool rel100; /* the caller requires reliable provisional answers (RFC 3262) */
	/* The legs' transports: SRTP keys cross only from TLS to TLS (b2bua/srtp.h). */
	bool a_tls, b_tls;
	bool from_peer; /* came from the other node: rings only here, never back there */
	bool srtp_refused; /* a B leg was not tried: keys only, toward a leg without TLS */
};

struct b2bua {
	su_root_t *root;
	nta_agent_t *agent;
	registrar_t *reg;
	struct b2bua_config cfg;
	struct call *calls;
	size_t n_calls;
	unsigned next_id;
	char id_prefix[48];	    /* NODE-RUN of this node's calls */
	su_timer_t *reaper;	    /* frees ended calls outside the callbacks that ended them */
	cisco_services_t *services; /* x-cisco-serviceuri-* requests: not calls */
	hosts_t const *hosts;	    /* the trunks' addresses, or NULL */
	b2bua_cdr_f cdr_sink;
	void *sink_arg;
	trunks_t *trunks;
	char mark[16];		/* this node's mark in the branch of its requests */
	struct store_cdr *cdrs; /* records not yet handed over */
	size_t n_cdrs, cap_cdrs;
};

/* Why a call cannot ring: the answer to the caller and the call record's result. */
struct refusal {
	int status;
	char const *phrase;
	char const *result;
};

/* b2bua/call.c */
void b2b_relay_free(struct relay *r);
void b2b_cdr_add(b2bua_t *b, char const *id, char const *caller, char const *device,
		 char const *callee, char const *target, char const *forwarded, time_t started,
		 time_t answered, char const *result);
unsigned b2b_line_calls(b2bua_t *b, char const *dn, struct call const *self);
void b2b_end_call(struct call *c, char const *why);
sip_payload_t const *b2b_body_toward(struct call *c, bool to_a, sip_t const *sip);
sip_payload_t const *b2b_body_for(struct call *c, bool to_a, bool tls, sip_t const *sip);
bool b2b_srtp_blocked(struct call *c, struct fork const *f, sip_t const *inv);
char const *b2b_security(struct call const *c, bool b_tls, sip_t const *sip);
void b2b_send_ack(b2bua_t *b, nta_leg_t *leg, uint32_t cseq, sip_t const *body_of,
		  sip_payload_t const *body);
void b2b_send_bye(nta_leg_t *leg, sip_contact_t const *contact);
tport_t *b2b_leg_tport(b2bua_t *b, nta_leg_t const *leg);

/* b2bua/fork.c */
void b2b_fail_call(struct call *c, int status, char const *phrase);
void b2b_cancel_forks(struct call *c, struct fork const *except);
int b2b_on_a_cancel(struct call *c, nta_incoming_t *irq, sip_t const *sip);
void b2b_on_ring_timeout(su_root_magic_t *magic, su_timer_t *t, void *arg);
nta_outgoing_t *b2b_send_fork_invite(struct call *c, struct fork *f, sip_t const *inv, tport_t *tp,
				     char const *auth, bool proxy);
bool b2b_answer_challenge(struct fork *f, nta_outgoing_t *orq, sip_t const *sip, int status);
struct binding const *b2b_resolve(struct call *c, char const *dn, struct refusal *no);
void b2b_ring_to(struct call *c, struct binding const *bd, sip_t const *inv);
bool b2b_redirect(struct call *c, char const *reason);

/* b2bua/invite.c */
struct call *b2b_call_new(b2bua_t *b, msg_t *msg, char const *caller, char const *device,
			  char const *callee);
int b2b_accept_invite(struct call *c, msg_t *msg, sip_t *sip);

/* b2bua/relay.c */
int b2b_in_dialog(struct call *c, bool from_a, nta_incoming_t *irq, sip_t const *sip);
int b2b_on_a_request(void *magic, nta_leg_t *leg, nta_incoming_t *irq, sip_t const *sip);
int b2b_on_b_request(void *magic, nta_leg_t *leg, nta_incoming_t *irq, sip_t const *sip);
void b2b_replace_dialog(b2bua_t *b, msg_t *msg, sip_t *sip, struct dir_device const *who,
			struct dir_line const *line);

#endif
