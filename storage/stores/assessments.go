package stores

import "github.com/pathways-lms/pathways/storage/docdb"

// assessmentsSchema is the collections of the assessments store.
var assessmentsSchema = docdb.Schema{}
