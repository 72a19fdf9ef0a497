/*
 * TLS: the certificate directory sofia's TLS listener reads (checked here
 * with OpenSSL first, since sofia only logs what is wrong with it), the lab
 * certificate authority `sipregctl tls init` makes, the Cisco trust list
 * (ITLFile.tlv), the process-wide legacy switch, and the OpenSSL contexts
 * sipregd makes for itself.
 *
 * The directory ([tls] dir) holds:
 *   agent.pem    key and certificate of the SIP server (sofia's name), 0600
 *   cafile.pem   CAs trusted for peers; sofia also builds the chain it sends from it
 *   ca.pem       the lab CA's certificate       ca.key  its key, 0600
 *   https.pem    EC P-256 key and certificate for HTTPS provisioning, 0600
 *   sast.pem     the SAST key and certificate that sign trust lists, 0600
 *   ITLFile.tlv  the Cisco trust list
 *
 * Thread: any (no shared state), except tls_legacy_enable(), which must run
 * in main() before anything initialises OpenSSL.
 */
#ifndef SIPREG_TLS_H
#define SIPREG_TLS_H

#include <jansson.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TLS_AGENT  "agent.pem"
#define TLS_CAFILE "cafile.pem"
#define TLS_CA	   "ca.pem"
#define TLS_CA_KEY "ca.key"
#define TLS_HTTPS  "https.pem"
#define TLS_SAST   "sast.pem"
#define TLS_ITL	   "ITLFile.tlv"
#define TLS_NODE   "node.pem"	    /* this node's key and certificate for the node link, 0600 */
#define TLS_PEER_AGENT "peer-agent.pem" /* the other node's SIP certificate (trust list) */
#define TLS_NODE_SIP   "node-sip"	    /* the SIP transport between the nodes: agent.pem, cafile.pem */

#define TLS_WARN_DAYS 30 /* expiry this close is warned about */

/*
 * Checks the directory a TLS listener will be given: agent.pem holds one
 * unencrypted private key (RSA of 2048 bits or more, or EC P-256/P-384)
 * and the certificate it matches, valid now; the certificate's chain
 * reaches a CA in cafile.pem (sofia sends the chain it builds from there);
 * key files are not readable by others. 0, or -1 with one sentence naming
 * the file in err. Warnings (an RSA key over 2048 bits, which older Cisco
 * phones refuse; expiry within TLS_WARN_DAYS) go to warn ("" when none).
 */
int tls_check_dir(char const *dir, char *err, size_t errlen, char *warn, size_t warnlen);

/* The same checks on the contents of agent.pem and cafile.pem (for the fuzzer). */
int tls_check_pem(char const *agent, size_t agent_len, char const *cafile, size_t cafile_len,
		  time_t now, char *err, size_t errlen, char *warn, size_t warnlen);

struct tls_init_opts {
	char const *cn;	 /* the server certificates' common name */
	char const *san; /* "DNS:name,IP:addr,...", or NULL: DNS:cn */
	unsigned days;	 /* validity of the server certificates */
	bool force;	 /* init: replace an existing CA */
};

/*
 * Creates the lab CA, the SIP server certificate (RSA 2048, SHA-256), the
 * HTTPS certificate (EC P-256), the SAST key and certificate and the trust
 * list. Refuses (-1, err) when a CA exists and force is not set.
 */
int tls_init(char const *dir, struct tls_init_opts const *o, char *err, size_t errlen);

/*
 * New server certificates from the same CA (the names of the current
 * ones unless o gives others) and a new trust list signed by the same
 * SAST key.
 */
int tls_renew(char const *dir, struct tls_init_opts const *o, char *err, size_t errlen);

/* Every certificate in the directory: subject, SANs, fingerprints, expiry, use. */
json_t *tls_show(char const *dir, time_t now, char *err, size_t errlen);

/* The fewest days any certificate in the directory has left, and which; -1 none. */
int tls_expiry(char const *dir, time_t now, long *days, char *which, size_t whichlen);

/* ---- Cisco trust list ---- */

enum tls_itl_role { ITL_ROLE_SAST = 0, ITL_ROLE_CCM = 1, ITL_ROLE_TFTP = 3, ITL_ROLE_APP = 7 };

/*
 * Builds a trust list: a SAST record for the signer, then one record per
 * certificate with its role; header hash SHA-1 (sha512 false) or SHA-512;
 * filename is written into the header (ITLFile.tlv, ITLSEP<MAC>.tlv).
 * *out is malloc'd. 0, or -1 with err.
 */
int tls_itl_build(X509 *sast_cert, EVP_PKEY *sast_key, X509 *const *certs,
		  enum tls_itl_role const *roles, size_t n, bool sha512, char const *filename,
		  time_t timestamp, uint8_t **out, size_t *outlen, char *err, size_t errlen);

/* The directory's trust list (sast.pem signs, agent.pem is the CCM), built in memory. */
int tls_itl_for_dir(char const *dir, bool sha512, char const *filename, uint8_t **out,
		    size_t *outlen, char *err, size_t errlen);

/* Writes the directory's trust list (ITLFile.tlv, 0644). 0, or -1 with err. */
int tls_itl_write(char const *dir, char *err, size_t errlen);

/* Whether name is a trust list's file name: ITLFile.tlv or ITLSEP + 12 hex digits + .tlv. */
bool tls_itl_name_ok(char const *name);

/* ---- OpenSSL for sipregd itself ---- */

/*
 * [tls] legacy: lets every OpenSSL context in the process that does not
 * set its own limits accept TLS 1.0 and security level 0 (what sofia's
 * listener gets), by loading a configuration before OpenSSL initialises.
 * Call first thing in main(). 0, or -1 with err.
 */
int tls_legacy_enable(char *err, size_t errlen);

/*
 * A client context of sipregd's own: TLS 1.2 or newer and security level
 * 2 whatever [tls] legacy says; peers verified against cafile (a PEM
 * file, or NULL for the system's store).
 */
SSL_CTX *tls_client_ctx(char const *cafile, char *err, size_t errlen);

/*
 * Connects to addr:port over TLS with sipregd's own code, as sofia would
 * (no SNI), and verifies the peer's chain against cafile and its name
 * against host; says in words what is wrong (name mismatch, unknown
 * issuer, expired). 0 when verified; -1 with the reason in why. Blocks for
 * at most about twice timeout_ms.
 */
int tls_probe(char const *host, char const *addr, unsigned port, char const *cafile,
	      unsigned timeout_ms, char *why, size_t whylen);

/* ---- the node link (two nodes) ---- */

/* Makes node.pem (EC P-256, from the lab CA, CN node_id) unless it exists. */
int tls_node_ensure(char const *dir, char const *node_id, char *err, size_t errlen);

/* A new key (EC P-256, or RSA 2048 for SIP) and a request for it; both PEM, malloc'd. */
int tls_node_request(char const *cn, bool rsa, char **key_pem, char **csr_pem, char *err,
		     size_t errlen);

/*
 * Signs a request with the lab CA of dir as cn (san: "DNS:..,IP:.." or
 * NULL): the certificate and the CA's, PEM, malloc'd.
 */
int tls_node_sign(char const *dir, char const *csr_pem, char const *cn, char const *san,
		  char **cert_pem, char *err, size_t errlen);

/* Writes dir/name (0600): a key and its certificates. */
int tls_node_write_pair(char const *dir, char const *name, char const *key_pem,
			char const *cert_pem, char *err, size_t errlen);

/* "SHA256:.." of the first certificate of a PEM text or file. 0, or -1 when none. */
int tls_pem_fingerprint(char const *pem, size_t len, char *out, size_t outlen);
int tls_file_fingerprint(char const *dir, char const *name, char *out, size_t outlen);

/* The first certificate of dir/name alone, PEM, malloc'd. */
int tls_cert_pem(char const *dir, char const *name, char **pem, char *err, size_t errlen);

/* The peer's certificate fingerprint after a handshake. */
int tls_peer_fingerprint(SSL *ssl, char *out, size_t outlen);

/* 0 when the peer's chain holds the CA of fingerprint ca_fp and it signed the peer's certificate. */
int tls_peer_issued_by(SSL *ssl, char const *ca_fp);

/*
 * The node link's context: TLS 1.2 or newer, security level 2, node.pem
 * of dir when present (a server needs it; dir NULL: a client without
 * one), the peer's certificate requested and compared by the caller after
 * the handshake.
 */
SSL_CTX *tls_node_ctx(char const *dir, bool server, char *err, size_t errlen);

/*
 * Makes dir/node-sip (0700) for the SIP transport between the nodes: its
 * agent.pem is node.pem (0600), its cafile.pem the CA's certificate alone.
 * 0, or -1 with err (no node.pem yet: not joined).
 */
int tls_node_sip_dir(char const *dir, char *err, size_t errlen);

#endif
