package pathways

import "time"

// ClaimGrace is how long a claim (a username, a course slug, a media use
// recorded at publishing, a blob record's asset) whose owner does not
// exist is still taken as the work of a create or publish in progress. It
// is longer than any create or publish takes, so a claim older than this
// with no owner was left by one that crashed or lost a race: a new create
// may take it over, and the background clean-up removes it.
const ClaimGrace = 10 * time.Minute
