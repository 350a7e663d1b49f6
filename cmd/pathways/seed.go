package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/google/uuid"

	"github.com/pathways-lms/pathways"
	"github.com/pathways-lms/pathways/accounts"
	"github.com/pathways-lms/pathways/courses"
	"github.com/pathways-lms/pathways/courses/coursefile"
	"github.com/pathways-lms/pathways/courses/demo"
	"github.com/pathways-lms/pathways/courses/transfer"
)

// The demo organisation owns the demo curriculum; its courses are shared
// with every organisation. Fixed IDs make seeding idempotent.
var (
	demoOrgID     = "0190f1e2-9d3a-7c4e-8f00-00000000de40"
	demoNamespace = uuid.MustParse("c0b8f0a6-1f5e-4f0e-9a51-2f3f8c6d7e10")
)

// system acts for the installation itself (seeding), as a global admin.
var system = accounts.Actor{UserID: "system", Role: accounts.RoleAdmin}

// seedDemo imports and publishes every demo course that is not there yet.
// It is safe to run at every start and after an interrupted run: what
// exists is left alone, what is missing is added.
func seedDemo(ctx context.Context, acc *accounts.Service, crs *courses.Service, xfer *transfer.Service, log *slog.Logger) error {
	if _, _, err := acc.CreateOrganisation(ctx, system, accounts.NewOrganisation{
		ID: demoOrgID, Slug: "pathways-demo", Name: "Pathways demo",
	}); err != nil {
		return fmt.Errorf("demo organisation: %w", err)
	}
	names, pkgs, err := demo.Packages()
	if err != nil {
		return err
	}
	for i, name := range names {
		id, created, err := seedCourse(ctx, crs, xfer, name, pkgs[i])
		if err != nil {
			return fmt.Errorf("demo course %s: %w", name, err)
		}
		if created {
			log.Info("demo course published", slog.String("slug", name), slog.String("course", id))
		}
	}
	return nil
}

func seedCourse(ctx context.Context, crs *courses.Service, xfer *transfer.Service, name string, pkg fs.FS) (id string, created bool, err error) {
	id = uuid.NewSHA1(demoNamespace, []byte(name)).String()
	c, err := crs.Draft(ctx, system, id)
	switch {
	case errors.Is(err, pathways.ErrNotFound):
		p, err := coursefile.Read(pkg)
		if err != nil {
			return id, false, err
		}
		res, err := xfer.Import(ctx, system, p, transfer.Options{ID: id, OrgID: demoOrgID})
		if err != nil {
			return id, false, err
		}
		c = res.Course
	case err != nil:
		return id, false, err
	}
	if c.Published > 0 {
		return id, false, nil
	}
	if _, err := crs.Publish(ctx, system, id, c.Revision); err != nil {
		return id, false, err
	}
	return id, true, nil
}
