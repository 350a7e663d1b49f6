package sqlite

import (
	"context"
	"strings"
	"testing"

	"github.com/pathways-lms/pathways/storage/docdb"
)

// TestListUsesIndexes: every query List builds is answered from the
// declared index (SQLite's plan names it and sorts nothing), so a listing
// never scans the table, whatever it holds.
func TestListUsesIndexes(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Options{Path: t.TempDir() + "/" + FileName})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	schema := docdb.Schema{{Name: "things", Indexes: []docdb.Index{
		{Name: "org_at", Fields: []string{"org", "at"}},
		{Name: "slug", Fields: []string{"slug"}, Unique: true},
	}}}
	if err := db.Migrate(ctx, schema); err != nil {
		t.Fatal(err)
	}
	for _, q := range []docdb.Query{
		{Index: "org_at", Eq: []any{"o"}, Limit: 10, Offset: 5},
		{Index: "org_at", Eq: []any{"o"}, Below: int64(5), Limit: 10},
		{Index: "org_at", Eq: []any{"o", int64(1)}, AfterID: "x", Limit: 10},
		{Index: "slug", Eq: []any{"s"}, Limit: 1},
	} {
		text, args := db.listSQL(schema[0], q)
		rows, err := db.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+text, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if !strings.Contains(p, "USING INDEX ix_things_"+q.Index) || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("query %+v: plan %q, want the index %s and no sort", q, p, q.Index)
		}
	}
}
