// Package mongodb implements the domain stores with the official MongoDB
// driver. It runs unchanged on MongoDB 7+ and on the embedded FerretDB 1.24,
// so it keeps to their common subset: single-document atomicity, and every
// request-path read or write filtered by {_id} alone (the only filter the
// embedded database answers without scanning).
package mongodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/pathways-lms/pathways"
)

// DB is an open database.
type DB struct {
	client *mongo.Client
	db     *mongo.Database
	locks  *docLocks
}

// Open connects to uri and checks the server answers; name is the database
// Pathways keeps its collections in.
func Open(ctx context.Context, uri, name string) (*DB, error) {
	opts := options.Client().ApplyURI(uri).
		SetAppName("pathways").
		SetServerSelectionTimeout(5 * time.Second).
		SetConnectTimeout(5 * time.Second)
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	db := &DB{client: client, db: client.Database(name), locks: newDocLocks()}
	if err := db.Ping(ctx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return db, nil
}

// Name is the database's name.
func (db *DB) Name() string { return db.db.Name() }

// Ping checks the server answers within two seconds; it returns an error
// wrapping pathways.ErrUnavailable if not.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := db.client.Ping(ctx, nil); err != nil {
		return fmt.Errorf("%w: ping database: %w", pathways.ErrUnavailable, err)
	}
	return nil
}

// Close disconnects, waiting for operations in flight until ctx ends.
func (db *DB) Close(ctx context.Context) error {
	if err := db.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("disconnect from database: %w", err)
	}
	return nil
}

// Collection gives direct access to a collection, for tests and
// benchmarks of the storage layer; the application goes through stores.
func (db *DB) Collection(name string) *mongo.Collection { return db.db.Collection(name) }

// Drop deletes the whole database; tests use it to clean up.
func (db *DB) Drop(ctx context.Context) error {
	if err := db.db.Drop(ctx); err != nil {
		return fmt.Errorf("drop database %s: %w", db.db.Name(), err)
	}
	return nil
}

// collection names, one place.
const (
	colOrganisations     = "organisations"
	colUsers             = "users"
	colUsernames         = "usernames"
	colUsernameSkeletons = "username_skeletons"
	colRosters           = "rosters"
	colRefreshTokens     = "refresh_tokens"
	colTokenFamilies     = "token_families"
	colLoginAttempts     = "login_attempts"
	colSettings          = "settings"
	colAssets            = "media_assets"
	colBlobs             = "media_blobs"
	colLibraries         = "media_libraries"
	colUploads           = "media_uploads"

	colCourses         = "courses"
	colCourseVersions  = "course_versions"
	colCourseSlugs     = "course_slugs"
	colCourseCatalogue = "course_catalogue"

	colAssessmentBanks = "assessment_banks"
	colQuizzes         = "quizzes"
	colQuizVersions    = "quiz_versions"
	colQuizAttempts    = "quiz_attempts"
	colQuizRecords     = "quiz_records"
	colQuizStats       = "quiz_stats"
)

// index is a secondary index a collection needs on real MongoDB (for the
// off-request-path scans); FerretDB enforces its unique constraint too.
type index struct {
	collection string
	model      mongo.IndexModel
}

var indexes = []index{
	{colOrganisations, mongo.IndexModel{Keys: map[string]int{"slug": 1}, Options: options.Index().SetUnique(true).SetName("slug_unique")}},
	{colOrganisations, mongo.IndexModel{Keys: map[string]int{"created_at": 1}, Options: options.Index().SetName("created_at")}},
	{colUsers, mongo.IndexModel{Keys: map[string]int{"org_id": 1}, Options: options.Index().SetName("org_id")}},
	{colRefreshTokens, mongo.IndexModel{Keys: map[string]int{"expires_at": 1}, Options: options.Index().SetName("expires_at")}},
	{colLoginAttempts, mongo.IndexModel{Keys: map[string]int{"window_start": 1}, Options: options.Index().SetName("window_start")}},
	{colTokenFamilies, mongo.IndexModel{Keys: map[string]int{"revoked_at": 1}, Options: options.Index().SetName("revoked_at")}},
	{colUploads, mongo.IndexModel{Keys: map[string]int{"expires_at": 1}, Options: options.Index().SetName("expires_at")}},
	{colAssessmentBanks, mongo.IndexModel{Keys: map[string]int{"org_id": 1}, Options: options.Index().SetName("org_id")}},
	{colQuizzes, mongo.IndexModel{Keys: map[string]int{"org_id": 1}, Options: options.Index().SetName("org_id")}},
	// The claims sweep looks for pending claims by age (see claims.sweep).
	{colUsernames, mongo.IndexModel{Keys: bson.D{{Key: "pending", Value: 1}, {Key: "claimed_at", Value: 1}}, Options: options.Index().SetName("pending_claimed_at")}},
	{colUsernameSkeletons, mongo.IndexModel{Keys: bson.D{{Key: "pending", Value: 1}, {Key: "claimed_at", Value: 1}}, Options: options.Index().SetName("pending_claimed_at")}},
	{colCourseSlugs, mongo.IndexModel{Keys: bson.D{{Key: "pending", Value: 1}, {Key: "claimed_at", Value: 1}}, Options: options.Index().SetName("pending_claimed_at")}},
}

// collections lists every collection, so Migrate creates them all up front
// (the embedded starter can only repair indexes of existing collections).
var collections = []string{
	colOrganisations, colUsers, colUsernames, colUsernameSkeletons, colRosters,
	colRefreshTokens, colTokenFamilies, colLoginAttempts, colSettings,
	colAssets, colBlobs, colLibraries, colUploads,
	colCourses, colCourseVersions, colCourseSlugs, colCourseCatalogue,
	colAssessmentBanks, colQuizzes, colQuizVersions, colQuizAttempts, colQuizRecords, colQuizStats,
}

// Migrate creates the collections and indexes; it is idempotent.
func (db *DB) Migrate(ctx context.Context) error {
	existing, err := db.db.ListCollectionNames(ctx, map[string]any{})
	if err != nil {
		return fmt.Errorf("list collections: %w", translate(err))
	}
	have := map[string]bool{}
	for _, n := range existing {
		have[n] = true
	}
	for _, name := range collections {
		if have[name] {
			continue
		}
		if err := db.db.CreateCollection(ctx, name); err != nil && !isNamespaceExists(err) {
			return fmt.Errorf("create collection %s: %w", name, translate(err))
		}
	}
	for _, ix := range indexes {
		if _, err := db.db.Collection(ix.collection).Indexes().CreateOne(ctx, ix.model); err != nil {
			return fmt.Errorf("create index on %s: %w", ix.collection, translate(err))
		}
	}
	return nil
}

func isNamespaceExists(err error) bool {
	var ce mongo.CommandError
	return errors.As(err, &ce) && ce.Code == 48
}

// translate maps driver errors to domain errors, keeping the original in
// the chain for logs: no document → ErrNotFound, duplicate key →
// ErrConflict, network trouble and timeouts → ErrUnavailable.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return fmt.Errorf("%w: %w", pathways.ErrNotFound, err)
	case mongo.IsDuplicateKeyError(err):
		return fmt.Errorf("%w: %w", pathways.ErrConflict, err)
	case mongo.IsNetworkError(err), mongo.IsTimeout(err), errors.Is(err, mongo.ErrClientDisconnected),
		errors.As(err, new(topology.ServerSelectionError)):
		return fmt.Errorf("%w: %w", pathways.ErrUnavailable, err)
	}
	return err
}
