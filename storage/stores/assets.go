package stores

import "github.com/pathways-lms/pathways/storage/docdb"

// assetsSchema is the collections of the assets store.
var assetsSchema = docdb.Schema{}
