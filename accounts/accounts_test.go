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
		"amira@x": CodeUsernameFormat,
		// Scripts whose vowel signs are spacing marks (Mc).
		"अमित": "", "தமிழ்": "", "ዮናስ": "",
		// Invisible characters (Default_Ignorable_Code_Point).
		"ami\u200bra": CodeInvisible, "adm\u034fa": CodeInvisible, "adma\ufe0f": CodeInvisible,
		"adm\U000e0100a": CodeInvisible, "ad\u00adma": CodeInvisible, "ad\u180bma": CodeInvisible,
		"\u3164adma": CodeInvisible, "adma\uffa0": CodeInvisible, "ad\u2060ma": CodeInvisible,
		"ad\u200ema": CodeInvisible, "ad\U000e0041ma": CodeInvisible, "\u115fadma": CodeInvisible,
		// The zero-width non-joiner and joiner only between two letters:
		// Persian "می‌خواهم", Sinhala and Devanagari conjunct control.
		"می\u200cخواهم": "", "क्\u200dष": "",
		"\u200cmiam": CodeInvisible, "miam\u200c": CodeInvisible, "mi\u200c\u200cam": CodeInvisible,
		"ab\u200c.cd": CodeInvisible,
	} {
		v := &pathways.ValidationError{}
		checkUsername(v, "username", NormaliseUsername(in))
		got := strings.Join(codes(v), ",")
		if got != want {
			t.Errorf("username %q: %q, want %q", in, got, want)
		}
	}
}

// TestDefaultIgnorable spot-checks the derived property against the code
// points Unicode lists in DerivedCoreProperties.txt, and some neighbours
// that are not in it. (Checked in full against the Unicode 15.0 file:
// 4,174 code points, no difference.)
func TestDefaultIgnorable(t *testing.T) {
	for _, r := range []rune{0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180F, 0x200B,
		0x200C, 0x200D, 0x200F, 0x202A, 0x202E, 0x2060, 0x2064, 0x2065, 0x206F, 0x3164, 0xFE00, 0xFE0F, 0xFEFF,
		0xFFA0, 0xFFF0, 0x1BCA0, 0x1D173, 0xE0000, 0xE0001, 0xE007F, 0xE0100, 0xE01EF, 0xE0FFF} {
		if !isDefaultIgnorable(r) {
			t.Errorf("%U is default-ignorable", r)
		}
	}
	for _, r := range []rune{'a', ' ', 0x00A0, 0x0600, 0x06DD, 0x070F, 0x110BD, 0xFFF9, 0xFFFB, 0x13430, 0x1343F,
		0x2028, 0x0640, 0x064B, 0x0300, 0x3000} {
		if isDefaultIgnorable(r) {
			t.Errorf("%U is not default-ignorable", r)
		}
	}
}

// TestSkeleton: names that look alike share a skeleton, names that do not,
// even in one script, do not.
func TestSkeleton(t *testing.T) {
	alike := [][2]string{
		{"adma", "аdmа"},             // Cyrillic а
		{"paypal", "рауpаl"},         // Cyrillic р, а, у
		{"amir", "arnir"},            // rn looks like m
		{"amir1", "amirl"},           // 1 and l
		{"علي", "علی"},               // Arabic and Persian yeh
		{"كريم", "کریم"},             // Arabic kaf and yeh, Persian keheh and yeh
		{"میخواهم", "می\u200cخواهم"}, // the non-joiner is ignored
		{"olena", "оlеnа"},           // Cyrillic о, е, а
	}
	for _, p := range alike {
		a, b := Skeleton(NormaliseUsername(p[0])), Skeleton(NormaliseUsername(p[1]))
		if a != b {
			t.Errorf("%q and %q: skeletons %q and %q differ", p[0], p[1], a, b)
		}
	}
	apart := [][2]string{
		{"amira", "amina"}, {"أميرة", "اميرة"}, {"олена", "olena"}, {"ዮናስ", "ዮናሰ"}, {"سارا", "سارة"},
		{"дмитро", "dmitro"}, {"hasan", "hassan"},
	}
	for _, p := range apart {
		if a, b := Skeleton(NormaliseUsername(p[0])), Skeleton(NormaliseUsername(p[1])); a == b {
			t.Errorf("%q and %q share the skeleton %q", p[0], p[1], a)
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

// TestVerifiedTokens: a verified token is remembered only while parsing
// it again would accept it too, and only tokens that passed are kept.
func TestVerifiedTokens(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	ti, err := NewTokenIssuer([]byte(strings.Repeat("k", 32)), 15*time.Minute, clock)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, _ := ti.Issue(User{ID: "u1", OrgID: "o1", Role: RoleLearner})
	if _, err := ti.Verify(tok); err != nil {
		t.Fatal(err)
	}
	if _, ok := ti.verified.get(tok, now); !ok {
		t.Fatal("a verified token is not remembered")
	}
	if _, err := ti.Verify(tok[:len(tok)-2] + "xx"); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("forged signature: %v", err)
	}
	if len(ti.verified.m) != 1 {
		t.Fatalf("%d tokens remembered, want only the valid one", len(ti.verified.m))
	}
	if _, ok := ti.verified.get(tok, now.Add(verifiedTTL)); ok {
		t.Fatal("remembered past verifiedTTL")
	}
	if _, ok := ti.verified.get(tok, now.Add(-time.Second)); ok {
		t.Fatal("remembered before it was checked (clock moved back)")
	}

	// Checked two minutes before expiry, it is remembered until the
	// expiry only; after it (and the leeway) Verify refuses it.
	now = now.Add(13*time.Minute + 30*time.Second)
	if _, err := ti.Verify(tok); err != nil {
		t.Fatal(err)
	}
	if _, ok := ti.verified.get(tok, now.Add(90*time.Second)); ok {
		t.Fatal("remembered past the token's expiry")
	}
	now = now.Add(90*time.Second + clockSkew + time.Second)
	if _, err := ti.Verify(tok); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("expired token: %v", err)
	}

	// Bounded: a full cache makes room.
	v := newVerifiedTokens()
	v.max = 10
	for i := range 25 {
		v.put(strings.Repeat("t", i+1), Actor{UserID: "u"}, now, now.Add(time.Hour))
		if len(v.m) > v.max {
			t.Fatalf("%d entries, limit %d", len(v.m), v.max)
		}
	}
}

// TestStatusExpiryJittered: entries fetched at the same moment expire at
// different times, within StatusTTL ±20 %, so a crowd that signed in
// together is not read again together.
func TestStatusExpiryJittered(t *testing.T) {
	c := newStatusCache()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	seen := map[time.Time]bool{}
	for i := range 200 {
		id := strings.Repeat("u", i+1)
		c.put(id, userStatus{fetched: now}, c.generation())
		exp := c.m[id].expires
		if exp.Before(now.Add(StatusTTL*4/5)) || exp.After(now.Add(StatusTTL*6/5)) {
			t.Fatalf("expiry %v after the fetch, want within %v ±20 %%", exp.Sub(now), StatusTTL)
		}
		seen[exp] = true
	}
	if len(seen) < 100 {
		t.Fatalf("200 entries expire at only %d distinct times", len(seen))
	}
	if _, ok := c.get("u", now.Add(StatusTTL*6/5+time.Nanosecond)); ok {
		t.Fatal("an entry outlives StatusTTL + 20 %")
	}
}

// TestNamesRefuseDirectionOverrides: an organisation's, a person's and a
// group's name with a bidirectional override or isolate is refused, one
// with the marks Arabic and Persian text needs (RLM, ZWNJ) is not.
func TestNamesRefuseDirectionOverrides(t *testing.T) {
	invalid := func(err error, field string) bool {
		var v *pathways.ValidationError
		if !errors.As(err, &v) {
			return false
		}
		for _, f := range v.Fields {
			if f.Field == field && f.Code == pathways.CodeInvalid {
				return true
			}
		}
		return false
	}
	for _, bad := range []string{"Welcome\u202eOGN", "Sara \u2066x\u2069", "a\u202ab"} {
		if err := CheckNewOrganisation(NewOrganisation{Slug: "welcome", Name: bad}); !invalid(err, "name") {
			t.Errorf("organisation name %q: %v", bad, err)
		}
		if err := CheckNewUser("o1", NewUser{Username: "sara", DisplayName: bad, Role: RoleLearner, PIN: "7391"}); !invalid(err, "displayName") {
			t.Errorf("display name %q: %v", bad, err)
		}
		if err := CheckNewGroup(NewGroup{Name: bad, Locale: "ar"}); !invalid(err, "name") {
			t.Errorf("group name %q: %v", bad, err)
		}
	}
	for _, good := range []string{"مدرسه\u200cی امید", "Class \u200fأ\u200f"} {
		if err := CheckNewOrganisation(NewOrganisation{Slug: "welcome", Name: good}); err != nil {
			t.Errorf("organisation name %q refused: %v", good, err)
		}
		if err := CheckNewGroup(NewGroup{Name: good, Locale: "fa"}); err != nil {
			t.Errorf("group name %q refused: %v", good, err)
		}
	}
}
