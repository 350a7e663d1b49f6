package stores

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/pathways-lms/pathways/storage/docdb"
)

// LegacyCollection says how the documents of one collection of the
// FerretDB engine (the stores of storage/mongodb before the document
// layer) become documents of these stores, for the data mover
// (storage/ferretmove), which reads them and hands each over as plain Go
// values. The stores kept the old field names, so most collections copy
// one to one; the differences are declared here, next to the documents
// they describe, and nothing about BSON is: fields renamed, dates that
// are now Unix milliseconds (the times an index orders), values old
// documents may lack. Convert decodes the result into the store's own
// document type and refuses any field that type has no place for, so a
// move never drops data silently.
type LegacyCollection struct {
	name string
	// doc is a new empty document of the collection's type; nil for a
	// collection the stores derive from others (Rebuild), not copied.
	doc func() any
	// renamed maps an old field's path ("course._id") to its new name
	// ("id", in the same subdocument).
	renamed map[string]string
	// millis are the paths of old dates the store now keeps as Unix
	// milliseconds; a path goes through arrays ("applied.at" is the "at"
	// of every element of "applied").
	millis []string
	// defaults are top-level fields old documents may lack, with the
	// value their absence meant.
	defaults map[string]any
}

// claimsLegacy is the old claims collection whose owner field was
// ownerField: old claims may lack claimed_at (made before times were
// recorded: time 0) and pending (the old sweep took a missing pending as
// pending).
func claimsLegacy(name, ownerField string) LegacyCollection {
	return LegacyCollection{
		name: name, doc: func() any { return new(claimDoc) },
		renamed: map[string]string{ownerField: "owner"}, millis: []string{"claimed_at"},
		defaults: map[string]any{"pending": true},
	}
}

func docOf[D any]() func() any { return func() any { return new(D) } }

// legacyCollections is every collection the old stores wrote
// (storage/mongodb/mongodb.go lists them).
var legacyCollections = []LegacyCollection{
	{name: colOrganisations, doc: docOf[orgDoc](), millis: []string{"created_at"}},
	{name: colUsers, doc: docOf[userDoc]()},
	claimsLegacy(colUsernames, "user_id"),
	claimsLegacy(colUsernameSkeletons, "user_id"),
	// The roster is the users' org_id index now.
	{name: "rosters"},
	{name: colRefreshTokens, doc: docOf[refreshDoc](), millis: []string{"expires_at"}},
	{name: colTokenFamilies, doc: docOf[familyDoc](), millis: []string{"revoked_at"}},
	{name: colLoginAttempts, doc: docOf[attemptsDoc](), millis: []string{"window_start"}},
	{name: colSettings, doc: docOf[settingDoc]()},

	{name: collAssets, doc: docOf[assetDoc]()},
	{name: collBlobs, doc: docOf[blobDoc]()},
	{name: collLibraries, doc: docOf[libraryDoc]()},
	{name: collUploads, doc: docOf[uploadDoc]()},

	{name: colCourses, doc: docOf[courseDoc]()},
	// A version's course kept its id under "_id", as the course document
	// did; the document's own id is the mover's.
	{name: colCourseVersions, doc: docOf[courseVersionDoc](), renamed: map[string]string{"course._id": "id"}},
	claimsLegacy(colCourseSlugs, "course_id"),
	// The one catalogue document is course_entries and course_meta now.
	{name: "course_catalogue"},

	{name: collBanks, doc: docOf[bankDoc]()},
	{name: collQuizzes, doc: docOf[quizDoc]()},
	{name: collVersions, doc: docOf[versionDoc]()},
	{name: collAttempts, doc: docOf[attemptDoc](), millis: []string{"followup_at"}},
	{name: collRecords, doc: docOf[recordDoc]()},
	{name: collStats, doc: docOf[statsDoc](), millis: []string{"applied.at"}},
}

// derivedCollections are the collections of the stores that no old
// collection is copied into: Rebuild makes their documents.
var derivedCollections = []string{colCourseEntries, colCourseMeta}

// newCollections are the collections of the stores the old stores had no
// counterpart of (groups came after them): a move has nothing to copy
// into them and they start empty.
var newCollections = []string{colGroups, colGroupMembers, colLearnerGroups, collDataRequests,
	colAssignments, colAssignedTo, colEnrolments, colProgress}

// Legacy returns how documents of the old collection coll are moved; ok
// is false for a collection the old stores never wrote, which a mover
// must refuse rather than drop.
func Legacy(coll string) (l LegacyCollection, ok bool) {
	i := slices.IndexFunc(legacyCollections, func(l LegacyCollection) bool { return l.name == coll })
	if i < 0 {
		return LegacyCollection{}, false
	}
	return legacyCollections[i], true
}

// Name is the collection's name, the same in the old database and here.
func (l LegacyCollection) Name() string { return l.name }

// Rebuilt reports a collection whose documents are not copied: the
// stores derive them from the others (Rebuild), or no longer keep them.
func (l LegacyCollection) Rebuilt() bool { return l.doc == nil }

// Convert turns one old document into the document to insert under the
// same id. old is the document without its _id, in plain Go values:
// string, bool, int64, float64, time.Time (a BSON date, UTC), []byte, nil,
// map[string]any (a subdocument) and []any (an array); Convert changes
// it. It returns an error naming the field for a field the new document
// has no place for, or a value of the wrong type.
func (l LegacyCollection) Convert(old map[string]any) (any, error) {
	if l.doc == nil {
		return nil, fmt.Errorf("%s: rebuilt, not copied", l.name)
	}
	for _, from := range slices.Sorted(maps.Keys(l.renamed)) {
		to := l.renamed[from]
		err := visit(old, strings.Split(from, "."), func(parent map[string]any, key string) error {
			v, ok := parent[key]
			if !ok {
				return nil
			}
			if _, taken := parent[to]; taken {
				return fmt.Errorf("field %s: both it and its new name %q are set", from, to)
			}
			delete(parent, key)
			parent[to] = v
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for _, path := range l.millis {
		err := visit(old, strings.Split(path, "."), func(parent map[string]any, key string) error {
			switch v := parent[key].(type) {
			case nil: // absent or null: zero
			case time.Time:
				parent[key] = unixMS(v)
			default:
				return fmt.Errorf("field %s: %T, want a date", path, v)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for k, v := range l.defaults {
		if _, ok := old[k]; !ok {
			old[k] = v
		}
	}
	// Through JSON, the engines' own form of a document: a time.Time
	// reads back as the store writes it, and an old field the document
	// type lacks is an error, not a loss.
	doc := l.doc()
	if err := decodeStrict(old, doc); err != nil {
		// Name the field: decode each alone until one fails.
		for _, k := range slices.Sorted(maps.Keys(old)) {
			if ferr := decodeStrict(map[string]any{k: old[k]}, l.doc()); ferr != nil {
				return nil, fmt.Errorf("field %s into %T: %w", k, doc, ferr)
			}
		}
		return nil, fmt.Errorf("into %T: %w", doc, err)
	}
	return doc, nil
}

// decodeStrict decodes v into doc through JSON, refusing fields doc has
// no place for.
func decodeStrict(v map[string]any, doc any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(doc)
}

// visit calls fn with the subdocument holding the last field of path and
// that field's name, for every subdocument the path reaches: through
// subdocuments, and through every element of an array on the way.
func visit(doc map[string]any, path []string, fn func(parent map[string]any, key string) error) error {
	if len(path) == 1 {
		return fn(doc, path[0])
	}
	var walk func(v any) error
	walk = func(v any) error {
		switch v := v.(type) {
		case map[string]any:
			return visit(v, path[1:], fn)
		case []any:
			for _, e := range v {
				if err := walk(e); err != nil {
					return err
				}
			}
		}
		return nil // absent, null or a scalar: nothing below
	}
	return walk(doc[path[0]])
}

// Rebuild makes the documents the stores derive from others, once a
// mover has copied the others in: every course's catalogue entry, made
// from the course as stored (its revision, its creation time), then the
// catalogue's counter, counted from the entries, and a new generation.
// It is idempotent. The server never needs it: its own writes keep these
// documents, and SweepSlugs' recount repairs a crash between them.
func (db *DB) Rebuild(ctx context.Context) error {
	s := db.Courses()
	type listed struct {
		id    string
		entry entryDoc
	}
	var all []listed
	err := docdb.Each(ctx, db.e, colCourses, docdb.Query{}, func(d docdb.Doc) error {
		var cd courseDoc
		if err := d.Decode(&cd); err != nil {
			return fmt.Errorf("course %s: %w", d.ID, err)
		}
		cd.ID = d.ID
		all = append(all, listed{d.ID, entryOf(cd.toDomain(), d.Rev)})
		return nil
	})
	if err != nil {
		return fmt.Errorf("rebuild catalogue: %w", err)
	}
	for _, l := range all {
		if _, err := s.writeEntry(ctx, l.id, l.entry, true); err != nil {
			return fmt.Errorf("rebuild catalogue: %w", err)
		}
	}
	if err := s.recount(ctx); err != nil {
		return fmt.Errorf("rebuild catalogue: %w", err)
	}
	return nil
}
