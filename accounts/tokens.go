package accounts

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token settings. The issuer and audience are fixed strings checked on every
// token, so a token minted for another service with the same key is refused.
const (
	Issuer   = "pathways"
	Audience = "pathways-api"
	// MinSecretLen is the shortest HMAC key accepted (256 bits).
	MinSecretLen = 32
	clockSkew    = 30 * time.Second
)

// signingMethod is pinned: tokens with any other "alg", "none" included, are
// refused before their signature is looked at.
var signingMethod = jwt.SigningMethodHS256

type accessClaims struct {
	Org   string `json:"org,omitempty"`
	Role  Role   `json:"role"`
	Epoch int    `json:"ep"` // the user's SessionEpoch when issued

	jwt.RegisteredClaims
}

// TokenIssuer mints and verifies access tokens.
type TokenIssuer struct {
	key      []byte
	ttl      time.Duration
	parser   *jwt.Parser
	now      func() time.Time
	verified *verifiedTokens
}

// NewTokenIssuer returns an issuer signing with key (at least MinSecretLen
// bytes) and tokens valid for ttl.
func NewTokenIssuer(key []byte, ttl time.Duration, now func() time.Time) (*TokenIssuer, error) {
	if len(key) < MinSecretLen {
		return nil, fmt.Errorf("token key has %d bytes, need at least %d", len(key), MinSecretLen)
	}
	return &TokenIssuer{
		key:      key,
		ttl:      ttl,
		now:      now,
		verified: newVerifiedTokens(),
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{signingMethod.Alg()}),
			jwt.WithIssuer(Issuer),
			jwt.WithAudience(Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(clockSkew),
			jwt.WithTimeFunc(now),
		),
	}, nil
}

// TTL is how long access tokens live.
func (ti *TokenIssuer) TTL() time.Duration { return ti.ttl }

// Issue returns a signed access token for u.
func (ti *TokenIssuer) Issue(u User) (string, time.Time, error) {
	now := ti.now()
	exp := now.Add(ti.ttl)
	claims := accessClaims{
		Org:   u.OrgID,
		Role:  u.Role,
		Epoch: u.SessionEpoch,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Audience:  jwt.ClaimStrings{Audience},
			Subject:   u.ID,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
			ID:        randomToken(12),
		},
	}
	s, err := jwt.NewWithClaims(signingMethod, claims).SignedString(ti.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return s, exp, nil
}

// Verify checks an access token's algorithm, signature, issuer, audience and
// times, and returns the actor it names. Every failure is ErrTokenInvalid.
// A token verified before is answered from memory until it expires or for
// verifiedTTL, whichever comes first (see verifiedTokens).
func (ti *TokenIssuer) Verify(token string) (Actor, error) {
	now := ti.now()
	if a, ok := ti.verified.get(token, now); ok {
		return a, nil
	}
	a, exp, err := ti.verify(token)
	if err != nil {
		return Actor{}, err
	}
	ti.verified.put(token, a, now, exp)
	return a, nil
}

// verify is Verify without the memory: it parses and checks the token and
// returns its actor and expiry.
func (ti *TokenIssuer) verify(token string) (Actor, time.Time, error) {
	var c accessClaims
	_, err := ti.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return ti.key, nil })
	if err != nil {
		return Actor{}, time.Time{}, fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	}
	if c.Subject == "" || !c.Role.Valid() {
		return Actor{}, time.Time{}, fmt.Errorf("%w: missing subject or role", ErrTokenInvalid)
	}
	return Actor{UserID: c.Subject, OrgID: c.Org, Role: c.Role, epoch: c.Epoch}, c.ExpiresAt.Time, nil
}

// verifiedTokens remembers access tokens whose signature and claims were
// checked, with the actor each names, so that a client's next requests
// skip the parsing, HMAC and JSON decoding of the token (18 % of the CPU of
// a lesson read, docs/PERFORMANCE.md). Only tokens that passed Verify are
// kept, so invalid tokens cannot fill it. An entry is used only from the
// time it was checked until min(the token's expiry, checked +
// verifiedTTL): at any such time parsing the token again would accept it
// and give the same actor (its issue and not-before times were already
// past, its expiry not yet). Whether the user is still enabled, and still
// on the token's session epoch, is not a property of the token: Authenticate
// checks it on every request, as before.
type verifiedTokens struct {
	max int

	mu sync.RWMutex
	m  map[string]verifiedToken
}

type verifiedToken struct {
	actor          Actor
	checked, until time.Time
}

// verifiedTTL is how long a verified token is remembered at most;
// maxVerified bounds the entries (about 400 bytes each with the token as
// key: 4 MB at most).
const (
	verifiedTTL = time.Minute
	maxVerified = 10_000
)

func newVerifiedTokens() *verifiedTokens {
	return &verifiedTokens{max: maxVerified, m: map[string]verifiedToken{}}
}

func (v *verifiedTokens) get(token string, now time.Time) (Actor, bool) {
	v.mu.RLock()
	e, ok := v.m[token]
	v.mu.RUnlock()
	if !ok || !now.Before(e.until) || now.Before(e.checked) {
		return Actor{}, false
	}
	return e.actor, true
}

// put remembers token, checked at now and expiring at exp. When full it
// drops expired entries, or else an arbitrary tenth of them.
func (v *verifiedTokens) put(token string, a Actor, now, exp time.Time) {
	until := now.Add(verifiedTTL)
	if exp.Before(until) {
		until = exp
	}
	if !now.Before(until) {
		return // inside the clock-skew leeway after expiry: not worth keeping
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.m) >= v.max {
		for k, e := range v.m {
			if !now.Before(e.until) {
				delete(v.m, k)
			}
		}
		for k := range v.m {
			if len(v.m) < v.max*9/10 {
				break
			}
			delete(v.m, k)
		}
	}
	v.m[token] = verifiedToken{actor: a, checked: now, until: until}
}

// RefreshToken is the stored form of a refresh token: only its hash is kept.
// Tokens descending from one sign-in form a family; a reused token revokes
// its whole family, since either the user or a thief holds a copy.
type RefreshToken struct {
	Hash         string
	Family       string
	UserID       string
	SessionEpoch int
	IssuedAt     time.Time
	ExpiresAt    time.Time
	UsedAt       time.Time // zero while unused
}

// Refresh token format: "<family>.<secret>", base64url. The family part
// lets logout revoke a session from the token alone.
func newRefreshToken(family string) string { return family + "." + randomToken(32) }

func refreshFamily(token string) (string, error) {
	family, secret, ok := strings.Cut(token, ".")
	if !ok || len(family) < 16 || len(secret) < 32 || len(token) > 200 {
		return "", errors.New("malformed refresh token")
	}
	return family, nil
}

// HashToken is how refresh tokens are stored and looked up: SHA-256, hex.
// A fast hash is right here: the tokens are 256-bit random values.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand never fails on supported platforms (Go 1.24+ panics
		// inside Read itself); keep the signature simple.
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// GenerateSecret returns a new random signing key.
func GenerateSecret() ([]byte, error) {
	b := make([]byte, 48)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("generate secret: %w", err)
	}
	return b, nil
}
