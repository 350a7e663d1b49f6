package server

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/text/language"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/i18n"
)

// draftJSON is a course's draft as authors send and receive it: the
// structure (texts as message IDs) and the texts of every locale in
// go-i18n's message shape.
type draftJSON struct {
	ID            string                            `json:"id,omitempty"`
	OrgID         string                            `json:"orgId,omitempty"`
	Revision      int                               `json:"revision,omitempty"`
	Slug          string                            `json:"slug"`
	Shared        bool                              `json:"shared"`
	Topic         courses.Topic                     `json:"topic"`
	Audiences     []courses.Audience                `json:"audiences"`
	Level         courses.Level                     `json:"level"`
	DefaultLocale string                            `json:"defaultLocale"`
	Locales       []string                          `json:"locales"`
	Title         string                            `json:"title"`
	Summary       string                            `json:"summary,omitempty"`
	Modules       []moduleJSON                      `json:"modules"`
	Messages      map[string]map[string]messageJSON `json:"messages"`
}

type moduleJSON struct {
	ID       string       `json:"id"`
	Title    string       `json:"title"`
	Summary  string       `json:"summary,omitempty"`
	Requires []string     `json:"requires,omitempty"`
	Lessons  []lessonJSON `json:"lessons"`
}

type lessonJSON struct {
	ID      string      `json:"id"`
	Title   string      `json:"title"`
	Minutes int         `json:"minutes"`
	Blocks  []blockJSON `json:"blocks"`
}

type blockJSON struct {
	ID         string            `json:"id"`
	Kind       courses.BlockKind `json:"kind"`
	Text       string            `json:"text,omitempty"`
	Media      string            `json:"media,omitempty"`
	MediaBy    map[string]string `json:"mediaBy,omitempty"`
	Alt        string            `json:"alt,omitempty"`
	Transcript string            `json:"transcript,omitempty"`
	Subtitles  map[string]string `json:"subtitles,omitempty"`
	URL        string            `json:"url,omitempty"`
	HelpURL    string            `json:"helpUrl,omitempty"`
	Quiz       string            `json:"quiz,omitempty"`
}

// messageJSON is a go-i18n message: a plain string, or an object with
// plural forms, a description and a source hash.
type messageJSON i18n.Message

type messageObject struct {
	Description string `json:"description,omitempty"`
	Hash        string `json:"hash,omitempty"`
	Zero        string `json:"zero,omitempty"`
	One         string `json:"one,omitempty"`
	Two         string `json:"two,omitempty"`
	Few         string `json:"few,omitempty"`
	Many        string `json:"many,omitempty"`
	Other       string `json:"other"`
}

// objectForm says that a message is a string or a messageObject.
func (messageJSON) objectForm() any { return messageObject{} }

func (m messageJSON) MarshalJSON() ([]byte, error) {
	if m == (messageJSON{Other: m.Other}) {
		return jsonMarshal(m.Other)
	}
	return jsonMarshal(messageObject(m))
}

func (m *messageJSON) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*m = messageJSON{Other: s}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var o messageObject
	if err := dec.Decode(&o); err != nil {
		return err
	}
	*m = messageJSON(o)
	return nil
}

func toMessages(in map[string]map[string]messageJSON) i18n.Messages {
	out := i18n.Messages{}
	for loc, msgs := range in {
		out[loc] = make(map[string]i18n.Message, len(msgs))
		for id, m := range msgs {
			out[loc][id] = i18n.Message(m)
		}
	}
	return out
}

func (d draftJSON) course() courses.Course {
	c := courses.Course{
		ID: d.ID, OrgID: d.OrgID, Slug: d.Slug, Shared: d.Shared, Topic: d.Topic, Audiences: d.Audiences,
		Level: d.Level, DefaultLocale: d.DefaultLocale, Locales: d.Locales, Title: d.Title, Summary: d.Summary,
		Messages: toMessages(d.Messages),
	}
	for _, m := range d.Modules {
		cm := courses.Module{ID: m.ID, Title: m.Title, Summary: m.Summary, Requires: m.Requires}
		for _, l := range m.Lessons {
			cl := courses.Lesson{ID: l.ID, Title: l.Title, Minutes: l.Minutes}
			for _, b := range l.Blocks {
				cl.Blocks = append(cl.Blocks, courses.Block(b))
			}
			cm.Lessons = append(cm.Lessons, cl)
		}
		c.Modules = append(c.Modules, cm)
	}
	return c
}

func (d draftJSON) check() error {
	v := &pathways.ValidationError{}
	if d.ID != "" && !accounts.ValidID(d.ID) {
		v.Add("id", pathways.CodeID, nil)
	}
	_ = v.Merge("", courses.CheckDraft(d.course()))
	return v.Err()
}

// courseJSON is a draft with what the server knows about it.
type courseJSON struct {
	draftJSON
	Published    int                `json:"published"`
	Archived     bool               `json:"archived"`
	CreatedAt    time.Time          `json:"createdAt"`
	UpdatedAt    time.Time          `json:"updatedAt"`
	Translations []localeStatusJSON `json:"translations"`
}

type localeStatusJSON struct {
	Locale     string   `json:"locale"`
	Dir        string   `json:"dir"`
	Default    bool     `json:"default"`
	Translated int      `json:"translated"`
	Missing    []string `json:"missing"`
	Outdated   []string `json:"outdated"`
	Complete   bool     `json:"complete"`
}

func toStatusJSON(st []i18n.LocaleStatus) []localeStatusJSON {
	out := make([]localeStatusJSON, len(st))
	for i, s := range st {
		out[i] = localeStatusJSON{Locale: s.Locale, Dir: dirOf(s.Locale), Default: s.Default, Translated: s.Translated,
			Missing: nonNil(s.Missing), Outdated: nonNil(s.Outdated), Complete: s.Complete()}
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func toCourseJSON(c courses.Course) courseJSON {
	d := draftJSON{
		ID: c.ID, OrgID: c.OrgID, Revision: c.Revision, Slug: c.Slug, Shared: c.Shared, Topic: c.Topic,
		Audiences: nonNil(c.Audiences), Level: c.Level, DefaultLocale: c.DefaultLocale, Locales: nonNil(c.Locales),
		Title: c.Title, Summary: c.Summary, Modules: []moduleJSON{}, Messages: map[string]map[string]messageJSON{},
	}
	for loc, msgs := range c.Messages {
		d.Messages[loc] = make(map[string]messageJSON, len(msgs))
		for id, m := range msgs {
			d.Messages[loc][id] = messageJSON(m)
		}
	}
	for _, m := range c.Modules {
		jm := moduleJSON{ID: m.ID, Title: m.Title, Summary: m.Summary, Requires: m.Requires, Lessons: []lessonJSON{}}
		for _, l := range m.Lessons {
			jl := lessonJSON{ID: l.ID, Title: l.Title, Minutes: l.Minutes, Blocks: []blockJSON{}}
			for _, b := range l.Blocks {
				jl.Blocks = append(jl.Blocks, blockJSON(b))
			}
			jm.Lessons = append(jm.Lessons, jl)
		}
		d.Modules = append(d.Modules, jm)
	}
	return courseJSON{draftJSON: d, Published: c.Published, Archived: c.Archived, CreatedAt: c.Created,
		UpdatedAt: c.Updated, Translations: toStatusJSON(courses.TranslationStatus(c))}
}

// sendCourse answers with a draft and its ETag.
func sendCourse(c *fiber.Ctx, status int, course courses.Course) error {
	setDraftETag(c, course.Revision)
	return c.Status(status).JSON(toCourseJSON(course))
}

// courseEditJSON is the body of PUT /courses/{id}: a draft, and the
// fields the server keeps, which a client may send back as it read them.
type courseEditJSON struct {
	draftJSON
	Published    *int               `json:"published,omitempty"`
	Archived     *bool              `json:"archived,omitempty"`
	CreatedAt    *time.Time         `json:"createdAt,omitempty"`
	UpdatedAt    *time.Time         `json:"updatedAt,omitempty"`
	Translations []localeStatusJSON `json:"translations,omitempty"`
}

func (e courseEditJSON) sendsReadOnly() bool {
	return e.ID != "" || e.OrgID != "" || e.Published != nil || e.Archived != nil || e.CreatedAt != nil ||
		e.UpdatedAt != nil || e.Translations != nil
}

// readOnly compares the fields the server keeps with the course as
// stored (cur), whose id is the path's.
func (e courseEditJSON) readOnly(cur courses.Course) error {
	var r readOnly
	r.id("id", e.ID, cur.ID)
	r.id("orgId", e.OrgID, cur.OrgID)
	r.published(e.Published, cur.Published)
	if e.Archived != nil {
		r.same("archived", *e.Archived, cur.Archived)
	}
	r.time("createdAt", e.CreatedAt, cur.Created)
	r.time("updatedAt", e.UpdatedAt, cur.Updated)
	if e.Translations != nil {
		r.same("translations", e.Translations, toStatusJSON(courses.TranslationStatus(cur)))
	}
	return r.err()
}

func (s *Server) createCourse(c *fiber.Ctx) error {
	var in draftJSON
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	course, created, err := s.courses.Create(c.UserContext(), actor(c), in.course())
	if err != nil {
		return err
	}
	c.Location("/api/v1/courses/" + course.ID)
	return sendCourse(c, createdStatus(created), course)
}

func (s *Server) listAuthored(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	p := pageParams(c, v, courses.AuthoredPages)
	if err := paramErr(v); err != nil {
		return err
	}
	entries, total, err := s.courses.Authored(c.UserContext(), actor(c), p)
	if err != nil {
		return err
	}
	type entryJSON struct {
		ID        string             `json:"id"`
		OrgID     string             `json:"orgId"`
		Slug      string             `json:"slug"`
		Published int                `json:"published"`
		Archived  bool               `json:"archived"`
		Shared    bool               `json:"shared"`
		Topic     courses.Topic      `json:"topic"`
		Audiences []courses.Audience `json:"audiences"`
		Level     courses.Level      `json:"level"`
		Locales   []string           `json:"locales"`
		UpdatedAt time.Time          `json:"updatedAt"`
	}
	return sendList(c, listOf(entries, func(e courses.Entry) entryJSON {
		return entryJSON{ID: e.CourseID, OrgID: e.OrgID, Slug: e.Slug, Published: e.Published, Archived: e.Archived,
			Shared: e.Shared, Topic: e.Topic, Audiences: nonNil(e.Audiences), Level: e.Level, Locales: nonNil(e.Locales), UpdatedAt: e.Updated}
	}), p, total)
}

func (s *Server) getCourse(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	course, err := s.courses.Draft(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return sendCourse(c, fiber.StatusOK, course)
}

func (s *Server) updateCourse(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id := pathIDInto(c, v)
	var in courseEditJSON
	if err := decodeRequest(c, v, &in); err != nil {
		return err
	}
	rev, err := revision(c, in.Revision, in)
	if err != nil {
		return err
	}
	if in.sendsReadOnly() {
		// Read-only fields change only with the revision (or, for
		// published, only upwards): if the draft moved on, Update answers
		// 409 whatever they hold.
		cur, err := s.courses.Draft(c.UserContext(), actor(c), id)
		if err != nil {
			return err
		}
		if cur.Revision == rev {
			if err := in.readOnly(cur); err != nil {
				return err
			}
		}
	}
	course, err := s.courses.Update(c.UserContext(), actor(c), id, rev, in.course())
	if err != nil {
		return err
	}
	return sendCourse(c, fiber.StatusOK, course)
}

func (s *Server) deleteCourse(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := s.courses.Delete(c.UserContext(), actor(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) setMessages(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id := pathIDInto(c, v)
	locale := c.Params("locale")
	if !i18n.ValidLocale(locale) {
		v.Add("locale", i18n.CodeLocale, nil)
	}
	var in struct {
		Revision int                     `json:"revision"`
		Messages map[string]*messageJSON `json:"messages"`
	}
	if err := decodeRequest(c, v, &in); err != nil {
		return err
	}
	rev, err := revision(c, in.Revision, nil)
	if err != nil {
		return err
	}
	changes := make(map[string]*i18n.Message, len(in.Messages))
	for mid, m := range in.Messages {
		changes[mid] = (*i18n.Message)(m)
	}
	course, err := s.courses.SetMessages(c.UserContext(), actor(c), id, rev, locale, changes)
	if err != nil {
		return asParams(err, "locale")
	}
	return sendCourse(c, fiber.StatusOK, course)
}

func (s *Server) translationStatus(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id := pathIDInto(c, v)
	p := pageParams(c, v, pathways.DefaultPages)
	if err := paramErr(v); err != nil {
		return err
	}
	st, err := s.courses.Status(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return sendList(c, toStatusJSON(pathways.Window(st, p)), p, len(st))
}

func (s *Server) publishCourse(c *fiber.Ctx) error {
	pv := &pathways.ValidationError{}
	id := pathIDInto(c, pv)
	var in struct {
		Revision int `json:"revision"`
	}
	// The body is optional: If-Match may carry the revision instead.
	if c.Request().Header.ContentLength() != 0 || c.Get(fiber.HeaderContentType) != "" {
		if err := decodeRequest(c, pv, &in); err != nil {
			return err
		}
	} else if err := paramErr(pv); err != nil {
		return err
	}
	rev, err := revision(c, in.Revision, nil)
	if err != nil {
		return err
	}
	v, err := s.courses.Publish(c.UserContext(), actor(c), id, rev)
	if err != nil {
		return err
	}
	url := "/api/v1/catalogue/" + id + "/versions/" + strconv.Itoa(v.Number)
	c.Location(url)
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{
		"courseId": id, "version": v.Number, "revision": v.Revision, "publishedAt": v.Published, "url": url,
		"locales": courses.CompleteLocales(v.Course),
	})
}

func (s *Server) archiveCourse(archived bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		course, err := s.courses.SetArchived(c.UserContext(), actor(c), id, archived)
		if err != nil {
			return err
		}
		return sendCourse(c, fiber.StatusOK, course)
	}
}

type duplicateRequest struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
}

func (r duplicateRequest) check() error {
	v := &pathways.ValidationError{}
	if r.ID != "" && !accounts.ValidID(r.ID) {
		v.Add("id", pathways.CodeID, nil)
	}
	courses.CheckSlug(v, "slug", r.Slug)
	return v.Err()
}

func (s *Server) duplicateCourse(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id := pathIDInto(c, v)
	var in duplicateRequest
	if err := decodeRequest(c, v, &in); err != nil {
		return err
	}
	course, created, err := s.courses.Duplicate(c.UserContext(), actor(c), id, in.ID, in.Slug)
	if err != nil {
		return err
	}
	c.Location("/api/v1/courses/" + course.ID)
	return sendCourse(c, createdStatus(created), course)
}

// wantedInto lists the caller's languages, most wanted first: the
// ?lang= list (a learner's chosen language, then their others) if given,
// else Accept-Language by preference. With ?lang= the URL alone decides
// the answer, so it may be cached as immutable. A malformed entry is
// added to v, so a typo is not silently served in another language.
// Lists worked out before come from s.wantedQueries and s.wantedHeaders
// (only well-formed ones are kept); the list returned is shared, and
// must not be changed.
func (s *Server) wantedInto(c *fiber.Ctx, v *pathways.ValidationError) []string {
	if q := c.Context().QueryArgs().Peek("lang"); len(q) > 0 {
		if out, ok := s.wantedQueries.get(q); ok {
			return out
		}
		out, ok := wantedFromQuery(string(q), v)
		if ok {
			s.wantedQueries.put(string(q), out)
		}
		return out
	}
	h := c.Context().Request.Header.Peek(fiber.HeaderAcceptLanguage)
	if out, ok := s.wantedHeaders.get(h); ok {
		return out
	}
	out := wantedFromHeader(string(h))
	s.wantedHeaders.put(string(h), out)
	return out
}

// wantedFromQuery is the list of a ?lang= value; ok is false, and v
// says why, if it is malformed.
func wantedFromQuery(q string, v *pathways.ValidationError) (out []string, ok bool) {
	parts := strings.Split(q, ",")
	if !pathways.CheckCount(v, "lang", len(parts), maxWanted) {
		return nil, false
	}
	for _, l := range parts {
		l = strings.TrimSpace(l)
		if _, err := language.Parse(l); err != nil || len(l) > 35 {
			v.Add("lang", i18n.CodeLocale, nil)
			return nil, false
		}
		out = append(out, l)
	}
	return slices.Clip(out), true
}

// wantedFromHeader is the list of an Accept-Language value, by
// preference; a malformed one says nothing.
func wantedFromHeader(h string) []string {
	var out []string
	if tags, _, err := language.ParseAcceptLanguage(h); err == nil {
		for _, t := range tags[:min(len(tags), maxWanted)] {
			out = append(out, t.String())
		}
	}
	return slices.Clip(out)
}

// maxWanted bounds the ?lang= list.
const maxWanted = 10

func (s *Server) previewLesson(c *fiber.Ctx) error {
	pv := &pathways.ValidationError{}
	id, langs := pathIDInto(c, pv), s.wantedInto(c, pv)
	if err := paramErr(pv); err != nil {
		return err
	}
	v, err := s.courses.Preview(c.UserContext(), actor(c), id, c.Params("lesson"), langs)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentLanguage, strings.Join(v.Languages, ", "))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(v)
}

// versionInto reads :version, a positive version number, adding to v if
// it is not one.
func versionInto(c *fiber.Ctx, v *pathways.ValidationError) int {
	return positiveInto(v, "version", c.Params("version"))
}

// positiveInto reads parameter name, of value raw, as a positive number
// (at most maxOffset), adding to v if it is not one.
func positiveInto(v *pathways.ValidationError, name, raw string) int {
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxOffset {
		v.Add(name, pathways.CodeInvalid, nil)
		return 0
	}
	return n
}

// sendRendered answers with published content from the cache. A URL that
// names the version and the languages (?lang=) always gives the same
// bytes, so it may be cached for a year; otherwise the client revalidates
// with the strong ETag.
func sendRendered(c *fiber.Ctx, r courses.Rendered, immutable bool) error {
	c.Set(fiber.HeaderETag, r.ETag)
	c.Set(fiber.HeaderContentLanguage, strings.Join(r.Languages, ", "))
	switch {
	case immutable && len(c.Context().QueryArgs().Peek("lang")) > 0:
		c.Set(fiber.HeaderCacheControl, "private, max-age=31536000, immutable")
	default:
		c.Set(fiber.HeaderCacheControl, "private, no-cache")
		c.Vary(fiber.HeaderAcceptLanguage)
	}
	if inm := c.Context().Request.Header.Peek(fiber.HeaderIfNoneMatch); len(inm) > 0 && etagMatch(string(inm), r.ETag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(r.Body)
}

func (s *Server) catalogue(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	langs := s.wantedInto(c, v)
	p := pageParams(c, v, courses.CataloguePages)
	f := courses.Filter{Topic: courses.Topic(c.Query("topic")), Audience: courses.Audience(c.Query("audience")), Language: c.Query("language")}
	if f.Topic != "" && !slices.Contains(courses.Topics, f.Topic) {
		v.Add("topic", pathways.CodeEnum, map[string]any{"Value": pathways.JoinValues(courses.Topics)})
	}
	if f.Audience != "" && !slices.Contains(courses.Audiences, f.Audience) {
		v.Add("audience", pathways.CodeEnum, map[string]any{"Value": pathways.JoinValues(courses.Audiences)})
	}
	if f.Language != "" && !i18n.ValidLocale(f.Language) {
		v.Add("language", i18n.CodeLocale, nil)
	}
	if err := paramErr(v); err != nil {
		return err
	}
	items, total, err := s.courses.Catalogue(c.UserContext(), actor(c), f, langs, p)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	c.Vary(fiber.HeaderAcceptLanguage)
	return sendList(c, items, p, total)
}

func (s *Server) outline(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id := pathIDInto(c, v)
	n := 0
	if c.Params("version") != "" {
		n = versionInto(c, v)
	}
	langs := s.wantedInto(c, v)
	if err := paramErr(v); err != nil {
		return err
	}
	r, err := s.courses.OutlineJSON(c.UserContext(), actor(c), id, n, langs)
	if err != nil {
		return err
	}
	return sendRendered(c, r, n > 0)
}

func (s *Server) lesson(c *fiber.Ctx) error {
	v := &pathways.ValidationError{}
	id, n, langs := pathIDInto(c, v), versionInto(c, v), s.wantedInto(c, v)
	if err := paramErr(v); err != nil {
		return err
	}
	r, err := s.courses.LessonJSON(c.UserContext(), actor(c), id, n, c.Params("lesson"), langs)
	if err != nil {
		return err
	}
	return sendRendered(c, r, true)
}

func dirOf(locale string) string {
	if i18n.IsRTL(locale) {
		return "rtl"
	}
	return "ltr"
}
