package accounts

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pathways-lms/pathways"
)

func TestHashAndVerify(t *testing.T) {
	h := NewHasher(HashParams{MemoryKiB: 64, Time: 1, Threads: 1})
	ctx := context.Background()
	enc, err := h.Hash(ctx, "مرحبا 2580")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("encoding %q", enc)
	}
	again, _ := h.Hash(ctx, "مرحبا 2580")
	if again == enc {
		t.Fatal("same hash twice: salt not random")
	}
	for secret, want := range map[string]bool{"مرحبا 2580": true, "مرحبا 2581": false, "": false} {
		ok, err := h.Verify(ctx, secret, enc)
		if err != nil || ok != want {
			t.Errorf("Verify(%q) = %v, %v; want %v", secret, ok, err, want)
		}
	}
	// Hashes made with other parameters still verify (parameters are read
	// from the hash).
	strong := NewHasher(DefaultHashParams)
	if ok, err := strong.Verify(ctx, "مرحبا 2580", enc); err != nil || !ok {
		t.Fatalf("verify with other default params: %v %v", ok, err)
	}
}

func TestVerifyRejectsMalformedHashes(t *testing.T) {
	h := NewHasher(HashParams{MemoryKiB: 64, Time: 1, Threads: 1})
	good, _ := h.Hash(context.Background(), "x")
	parts := strings.Split(good, "$")
	for name, enc := range map[string]string{
		"empty":         "",
		"bcrypt":        "$2a$10$abcdefghijklmnopqrstuv",
		"argon2i":       strings.Replace(good, "argon2id", "argon2i", 1),
		"wrong version": strings.Replace(good, "v=19", "v=16", 1),
		"huge memory":   strings.Replace(good, "m=64", "m=99999999", 1),
		"zero time":     strings.Replace(good, "t=1", "t=0", 1),
		"bad salt":      strings.Join([]string{"", parts[1], parts[2], parts[3], "!!!", parts[5]}, "$"),
		"short key":     strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "AAAA"}, "$"),
	} {
		if ok, err := h.Verify(context.Background(), "x", enc); err == nil || ok {
			t.Errorf("%s: Verify = %v, %v; want an error", name, ok, err)
		}
	}
}

func TestHasherHonoursContext(t *testing.T) {
	h := NewHasher(HashParams{MemoryKiB: 64, Time: 1, Threads: 1})
	for range cap(h.slots) {
		h.slots <- struct{}{} // all slots busy
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash with all slots busy and a cancelled context: %v", err)
	}
}

func TestNormaliseUsername(t *testing.T) {
	for in, want := range map[string]string{
		"  Amira ":  "amira",
		"ＡＭＩＲＡ":     "amira", // full-width forms
		"STRASSE":   "strasse",
		"Straße":    "strasse", // case folding, not just lower-casing
		"أميرة":     "أميرة",
		"Олена":     "олена",
		"ﻣﺤﻤﺪ":      "محمد", // Arabic presentation forms → letters
		"user.name": "user.name",
	} {
		if got := NormaliseUsername(in); got != want {
			t.Errorf("NormaliseUsername(%q) = %q, want %q", in, got, want)
		}
	}
}

func codes(v *pathways.ValidationError) []string {
	var out []string
	for _, f := range v.Fields {
		out = append(out, f.Code)
	}
	return out
}

func TestCheckUsername(t *testing.T) {
	for in, want := range map[string]string{
		"amira": "", "a.b-c_d": "", "أميرة": "", "олена": "", "user7": "", "7user": "",
		"": pathways.CodeRequired, "ab": pathways.CodeTooShort, strings.Repeat("a", UsernameMax+1): pathways.CodeTooLong,
		"a b": CodeUsernameFormat, ".amira": CodeUsernameFormat, "am<ira": CodeUsernameFormat,
		"ami\u200bra": CodeUsernameFormat, "amira@x": CodeUsernameFormat,
	} {
		v := &pathways.ValidationError{}
		checkUsername(v, "username", NormaliseUsername(in))
		got := strings.Join(codes(v), ",")
		if got != want {
			t.Errorf("username %q: %q, want %q", in, got, want)
		}
	}
}

func TestCheckPIN(t *testing.T) {
	for pin, want := range map[string]string{
		"2580": "", "7391": "", "13579246": "", "0852": "",
		"1234": CodePINWeak, "4321": CodePINWeak, "0000": CodePINWeak, "5678": CodePINWeak, "98765": CodePINWeak,
		"123": CodePINFormat, "123456789": CodePINFormat, "12a4": CodePINFormat, "١٢٣٤": CodePINFormat, "": CodePINFormat,
	} {
		v := &pathways.ValidationError{}
		checkPIN(v, "pin", pin)
		if got := strings.Join(codes(v), ","); got != want {
			t.Errorf("PIN %q: %q, want %q", pin, got, want)
		}
	}
}

func TestLockDurations(t *testing.T) {
	p := LimitPolicy{MaxFailures: 5, Window: time.Minute, BaseLock: time.Minute, MaxLock: 10 * time.Minute}
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 10 * time.Minute}
	for lockouts, w := range want {
		if got := p.lockFor(lockouts); got != w {
			t.Errorf("lockFor(%d) = %v, want %v", lockouts, got, w)
		}
	}
}

func TestTokenIssuer(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	if _, err := NewTokenIssuer([]byte("short"), time.Minute, clock); err == nil {
		t.Fatal("short key accepted")
	}
	ti, err := NewTokenIssuer([]byte(strings.Repeat("k", 32)), 15*time.Minute, clock)
	if err != nil {
		t.Fatal(err)
	}
	u := User{ID: "u1", OrgID: "o1", Role: RoleEducator}
	tok, exp, err := ti.Issue(u)
	if err != nil || !exp.Equal(now.Add(15*time.Minute)) {
		t.Fatalf("Issue: %v %v", exp, err)
	}
	a, err := ti.Verify(tok)
	if err != nil || a != (Actor{UserID: "u1", OrgID: "o1", Role: RoleEducator}) {
		t.Fatalf("Verify: %+v %v", a, err)
	}
	other, _ := NewTokenIssuer([]byte(strings.Repeat("j", 32)), 15*time.Minute, clock)
	if _, err := other.Verify(tok); !errors.Is(err, ErrTokenInvalid) || !errors.Is(err, pathways.ErrUnauthenticated) {
		t.Fatalf("token of another key: %v", err)
	}
	now = now.Add(15*time.Minute + clockSkew + time.Second)
	if _, err := ti.Verify(tok); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("expired token: %v", err)
	}
}

func TestRefreshTokenFormat(t *testing.T) {
	tok := newRefreshToken("0190c3f6-aaaa-7bbb-8ccc-123456789abc")
	fam, err := refreshFamily(tok)
	if err != nil || fam != "0190c3f6-aaaa-7bbb-8ccc-123456789abc" {
		t.Fatalf("family of %q: %q %v", tok, fam, err)
	}
	for _, bad := range []string{"", "abc", "short.x", strings.Repeat("a", 16) + ".short", "." + strings.Repeat("a", 40), strings.Repeat("a", 300) + "." + strings.Repeat("b", 40)} {
		if _, err := refreshFamily(bad); err == nil {
			t.Errorf("refreshFamily(%q) accepted", bad)
		}
	}
	if HashToken(tok) == HashToken(tok+"x") || len(HashToken(tok)) != 64 {
		t.Fatal("HashToken")
	}
}

func TestPermissions(t *testing.T) {
	root := Actor{UserID: "r", Role: RoleAdmin}
	orgAdmin := Actor{UserID: "a", OrgID: "A", Role: RoleAdmin}
	edu := Actor{UserID: "e", OrgID: "A", Role: RoleEducator}
	learner := Actor{UserID: "l", OrgID: "A", Role: RoleLearner}
	tests := []struct {
		a    Actor
		org  string
		role Role
		want error
	}{
		{root, "B", RoleAdmin, nil},
		{root, "", RoleAdmin, nil},
		{orgAdmin, "A", RoleTrainer, nil},
		{orgAdmin, "B", RoleLearner, pathways.ErrNotFound},
		{orgAdmin, "", RoleAdmin, pathways.ErrNotFound},
		{edu, "A", RoleLearner, nil},
		{edu, "A", RoleEducator, pathways.ErrForbidden},
		{edu, "B", RoleLearner, pathways.ErrNotFound},
		{learner, "A", RoleLearner, pathways.ErrForbidden},
	}
	for _, tt := range tests {
		if got := mayManage(tt.a, tt.org, tt.role); !errors.Is(got, tt.want) || (tt.want == nil) != (got == nil) {
			t.Errorf("mayManage(%+v, %q, %s) = %v, want %v", tt.a, tt.org, tt.role, got, tt.want)
		}
	}
	learnerB := User{ID: "x", OrgID: "B", Role: RoleLearner}
	if mayView(edu, learnerB) || mayView(learner, User{ID: "y", OrgID: "A"}) || !mayView(root, learnerB) || !mayView(learner, User{ID: "l", OrgID: "A"}) {
		t.Fatal("mayView")
	}
}
