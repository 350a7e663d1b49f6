package accounts

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"go.mau.fi/util/confusable"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/i18n"
)

// Field error codes of this package; each has a "field.<code>" message in
// the UI catalogue. Accounts also use the generic codes of package
// pathways and i18n's "locale".
const (
	CodeUsernameFormat = "username_format"
	CodeInvisible      = "username_invisible"
	CodeConfusable     = "confusable"
	CodePINFormat      = "pin_format"
	CodePINWeak        = "pin_weak"
	CodePasswordCommon = "password_common"
	CodeOneOf          = "one_of"
	CodeRole           = "role"
	CodeTaken          = "taken"
	CodeCurrentWrong   = "current_wrong"
)

// FieldCodes lists every field error code accounts produces, for the
// catalogue test.
var FieldCodes = []string{
	CodeUsernameFormat, CodeInvisible, CodeConfusable, CodePINFormat, CodePINWeak, CodePasswordCommon,
	CodeOneOf, CodeRole, CodeTaken, CodeCurrentWrong, CodeGroupFull, CodeTooManyGroups, CodeNotLearner,
}

// Limits on user input.
const (
	UsernameMin    = 3
	UsernameMax    = 40
	DisplayNameMax = 100
	PasswordMin    = 8
	PasswordMax    = 128
	PINMin         = 4
	PINMax         = 8
	OrgNameMax     = 120
	SlugMax        = 60
)

var fold = cases.Fold()

// CheckNewOrganisation checks a new organisation's fields: an optional
// client id, the slug and the name (not whether the slug is taken). It
// returns a *pathways.ValidationError listing every problem.
func CheckNewOrganisation(in NewOrganisation) error {
	v := &pathways.ValidationError{}
	checkClientID(v, in.ID)
	checkSlug(v, "slug", strings.TrimSpace(in.Slug))
	checkText(v, "name", strings.TrimSpace(in.Name), true, OrgNameMax)
	return v.Err()
}

// CheckNewUser checks a new user's fields for organisation orgID (empty:
// a global admin): an optional client id, the username, display name,
// locale, role and secret (see CheckSecret); not whether the username is
// taken. It returns a *pathways.ValidationError listing every problem.
func CheckNewUser(orgID string, in NewUser) error {
	v := &pathways.ValidationError{}
	checkClientID(v, in.ID)
	checkUsername(v, "username", NormaliseUsername(in.Username))
	checkText(v, "displayName", strings.TrimSpace(in.DisplayName), false, DisplayNameMax)
	checkLocale(v, "locale", in.Locale)
	// An unknown role is one of a list of values (enum, as every such
	// field); a known one may still not fit where the user lives (role).
	switch {
	case !in.Role.Valid():
		pathways.CheckEnum(v, "role", in.Role, Roles)
	case orgID == "" && in.Role != RoleAdmin:
		v.Add("role", CodeRole, nil) // only admins live outside organisations
	}
	checkSecret(v, in.Password, in.PIN)
	return v.Err()
}

// CheckUserUpdate checks the fields a profile change sets.
func CheckUserUpdate(in UserUpdate) error {
	v := &pathways.ValidationError{}
	if in.DisplayName != nil {
		checkText(v, "displayName", strings.TrimSpace(*in.DisplayName), true, DisplayNameMax)
	}
	if in.Locale != nil {
		checkLocale(v, "locale", *in.Locale)
	}
	return v.Err()
}

// CheckSecret checks a new secret: exactly one of a password and a PIN,
// each strong enough.
func CheckSecret(password, pin string) error {
	v := &pathways.ValidationError{}
	checkSecret(v, password, pin)
	return v.Err()
}

func checkSecret(v *pathways.ValidationError, password, pin string) {
	switch {
	case password != "" && pin != "":
		v.Add("pin", CodeOneOf, nil)
	case pin != "":
		checkPIN(v, "pin", pin)
	case password != "":
		checkPassword(v, "password", password)
	default:
		v.Add("password", pathways.CodeRequired, nil)
	}
}

// NormaliseUsername returns the key a username is unique under: NFKC
// (so full-width and compatibility forms collapse), case-folded, trimmed.
// Learners type usernames on many keyboards; "Amira" and "amira" are one.
func NormaliseUsername(s string) string {
	return fold.String(norm.NFKC.String(strings.TrimSpace(s)))
}

// checkUsername validates a normalised username: letters of any script
// with their combining marks, digits, '.', '_' and '-', starting with a
// letter, digit or mark. Invisible characters (Unicode's
// Default_Ignorable_Code_Point: U+034F, variation selectors, fillers, …)
// are refused with CodeInvisible, except a zero-width non-joiner or joiner
// between two letters, which Persian and Indic spelling need; the
// skeleton (see Skeleton) ignores those two, so they cannot make a
// lookalike of an existing name.
func checkUsername(v *pathways.ValidationError, field, key string) {
	n := utf8.RuneCountInString(key)
	switch {
	case n == 0:
		v.Add(field, pathways.CodeRequired, nil)
		return
	case n < UsernameMin:
		v.Add(field, pathways.CodeTooShort, map[string]any{"Count": UsernameMin})
		return
	case n > UsernameMax:
		v.Add(field, pathways.CodeTooLong, map[string]any{"Count": UsernameMax})
		return
	}
	rs := []rune(key)
	for i, r := range rs {
		if isDefaultIgnorable(r) {
			if !isJoiner(r) || i == 0 || i == len(rs)-1 || !isLetterOrMark(rs[i-1]) || !isLetterOrMark(rs[i+1]) {
				v.Add(field, CodeInvisible, nil)
				return
			}
			continue
		}
		ok := isLetterOrMark(r) || unicode.IsDigit(r)
		if i > 0 {
			ok = ok || r == '.' || r == '_' || r == '-'
		}
		if !ok {
			v.Add(field, CodeUsernameFormat, nil)
			return
		}
	}
}

// isLetterOrMark: a letter or a combining mark (nonspacing, as Arabic
// harakat, or spacing, as Devanagari and Burmese vowel signs).
func isLetterOrMark(r rune) bool {
	return unicode.IsLetter(r) || unicode.In(r, unicode.Mn, unicode.Mc)
}

// isJoiner: U+200C ZERO WIDTH NON-JOINER or U+200D ZERO WIDTH JOINER.
func isJoiner(r rune) bool { return r == '\u200c' || r == '\u200d' }

// isDefaultIgnorable reports Unicode's Default_Ignorable_Code_Point
// property, derived from the standard library's tables as
// DerivedCoreProperties.txt defines it: Other_Default_Ignorable_Code_Point,
// format characters (Cf) and variation selectors, less white space, the
// interlinear annotation and Egyptian hieroglyph format characters and the
// prepended concatenation marks. The standard library has the parts but
// not the derived property.
func isDefaultIgnorable(r rune) bool {
	switch {
	case unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector):
		return true
	case !unicode.Is(unicode.Cf, r), unicode.In(r, unicode.White_Space, unicode.Prepended_Concatenation_Mark):
		return false
	}
	return !(r >= 0xFFF9 && r <= 0xFFFB || r >= 0x13430 && r <= 0x13440)
}

// Skeleton returns the confusable skeleton of a normalised username
// (Unicode TR39, internalSkeleton: NFD, default-ignorable code points
// removed, each character mapped to its prototype from confusables.txt,
// NFD again), which two names that look alike share: "adma" and Cyrillic
// "аdmа", Arabic "علي" and Persian "علی". The mapping comes from
// go.mau.fi/util/confusable (Unicode 17.0 data), whose Skeleton drops
// non-graphic characters instead of default-ignorable ones, so those are
// removed here first.
func Skeleton(key string) string {
	return confusable.Skeleton(strings.Map(func(r rune) rune {
		if isDefaultIgnorable(r) {
			return -1
		}
		return r
	}, norm.NFD.String(key)))
}

// checkText checks a one-line name (of an organisation, a person, a
// group): at most max characters once trimmed, no control characters and
// no bidirectional embeddings, overrides or isolates (isBidiOverride),
// which would make the name, and the text shown after it, read in another
// order than it is stored.
func checkText(v *pathways.ValidationError, field, s string, required bool, max int) {
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	switch {
	case n == 0 && required:
		v.Add(field, pathways.CodeRequired, nil)
	case n > max:
		v.Add(field, pathways.CodeTooLong, map[string]any{"Count": max})
	case !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || isBidiOverride(r) }):
		v.Add(field, pathways.CodeInvalid, nil)
	}
}

// commonPasswords are refused outright; a short list of the most used ones
// (NIST SP 800-63B asks for a check against known-bad values).
var commonPasswords = map[string]bool{
	"password": true, "password1": true, "12345678": true, "123456789": true, "1234567890": true,
	"qwertyui": true, "qwertyuiop": true, "iloveyou": true, "11111111": true, "00000000": true,
	"abcdefgh": true, "abc12345": true, "password123": true, "welcome1": true, "letmein1": true,
	"87654321": true, "admin123": true, "passw0rd": true, "azertyui": true, "football": true,
}

func checkPassword(v *pathways.ValidationError, field, pw string) {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < PasswordMin:
		v.Add(field, pathways.CodeTooShort, map[string]any{"Count": PasswordMin})
	case n > PasswordMax:
		v.Add(field, pathways.CodeTooLong, map[string]any{"Count": PasswordMax})
	case commonPasswords[strings.ToLower(pw)]:
		v.Add(field, CodePasswordCommon, nil)
	}
}

// checkPIN accepts 4 to 8 ASCII digits that are not all equal and not a
// run such as 1234 or 9876. PINs are weak by nature; the login limiter is
// what protects them.
func checkPIN(v *pathways.ValidationError, field, pin string) {
	if len(pin) < PINMin || len(pin) > PINMax || strings.ContainsFunc(pin, func(r rune) bool { return r < '0' || r > '9' }) {
		v.Add(field, CodePINFormat, nil)
		return
	}
	same, up, down := true, true, true
	for i := 1; i < len(pin); i++ {
		d := int(pin[i]) - int(pin[i-1])
		same = same && d == 0
		up = up && d == 1
		down = down && d == -1
	}
	if same || up || down {
		v.Add(field, CodePINWeak, nil)
	}
}

func checkLocale(v *pathways.ValidationError, field, tag string) {
	if tag == "" {
		return
	}
	if _, err := language.Parse(tag); err != nil || len(tag) > 35 {
		v.Add(field, i18n.CodeLocale, nil)
	}
}

// checkSlug accepts lower-case ASCII letters, digits and inner dashes.
func checkSlug(v *pathways.ValidationError, field, s string) {
	if s == "" {
		v.Add(field, pathways.CodeRequired, nil)
		return
	}
	if len(s) > SlugMax {
		v.Add(field, pathways.CodeTooLong, map[string]any{"Count": SlugMax})
		return
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' && i > 0 && i < len(s)-1
		if !ok {
			v.Add(field, pathways.CodeInvalid, nil)
			return
		}
	}
}
