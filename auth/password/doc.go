// Package password hashes and checks user passwords: argon2id with OWASP's
// parameters, stored as PHC strings, and a password policy that refuses
// short passwords and the most common ones.
//
// The threat is a stolen user table. A fast hash (SHA-256, even salted)
// lets an attacker with one GPU try billions of guesses per second;
// argon2id makes each guess cost memory as well as time, which is what GPUs
// and ASICs lack. The second threat is guessing online: a policy that lets
// users pick "password123" makes every other control weaker, so the policy
// refuses the ten thousand most common passwords outright.
//
// # Hash format
//
// Hash returns a PHC string, the format every argon2 implementation reads:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt, base64>$<key, base64>
//
// Verify reads the parameters back from the string, so raising Params later
// keeps old hashes working; Verify reports NeedsRehash for a hash made with
// different parameters so that the login flow can replace it while it holds
// the plain password.
//
// # Security considerations
//
// Passwords are normalised to Unicode NFKC before hashing and before the
// policy runs, as NIST SP 800-63B recommends, so that the same password
// typed on two keyboards verifies. The derived key is compared with
// crypto/subtle in constant time. Salts come from crypto/rand. A hash read
// from storage is distrusted: parameters beyond sane bounds (say m=4 GiB
// planted to exhaust memory) are refused instead of computed. Passwords
// longer than MaxBytes are refused before hashing, so a megabyte-long
// "password" cannot be used to burn CPU.
//
// The default minimum length is 15 characters, NIST SP 800-63B-4's floor
// for a password that is the only factor; it can be lowered to 8 at the
// least.
//
// # Concurrency
//
// Hasher and Policy are immutable after construction and safe for
// concurrent use. Each Hash or Verify call allocates Params.Memory KiB for
// its duration; callers that accept logins from the network should bound
// how many run at once (package login does).
//
// References: RFC 9106 (Argon2), https://www.rfc-editor.org/rfc/rfc9106;
// OWASP Password Storage Cheat Sheet; NIST SP 800-63B-4 section 3.1.1; the
// PHC string format, https://github.com/P-H-C/phc-string-format.
package password
