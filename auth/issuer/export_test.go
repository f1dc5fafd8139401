package issuer

import "context"

// VerifyUncached verifies raw in full, without looking at the
// verified-token cache, so that benchmarks can measure a token's first
// verification.
func (v *Verifier) VerifyUncached(ctx context.Context, raw string) error {
	_, err := v.verifyFull(ctx, raw)
	return err
}
