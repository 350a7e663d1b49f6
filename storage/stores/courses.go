package stores

import "github.com/pathways-lms/pathways/storage/docdb"

// coursesSchema is the collections of the courses store.
var coursesSchema = docdb.Schema{}
