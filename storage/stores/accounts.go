package stores

import "github.com/pathways-lms/pathways/storage/docdb"

// accountsSchema is the collections of the accounts store.
var accountsSchema = docdb.Schema{}
