// Package mongodb is the MongoDB engine of the document layer
// (storage/docdb), on the official driver: for installations that run
// several instances against one MongoDB replica set (or a single MongoDB
// server). The stores themselves live in storage/stores, written once for
// both engines. In tests it runs against the embedded FerretDB of
// embedded/ (through mongotest), a wire-compatible stand-in for MongoDB.
package mongodb

import (
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/pathways-lms/pathways"
)

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
