package bbolt

import (
	"fmt"
	"strings"

	"github.com/oauth2broker/oauth2broker/storage"
)

// ErrInvalidKey is returned when an API name or record ID contains a NUL
// byte, the separator of the key layout. No such record can exist, so it
// matches storage.ErrNotFound too: a lookup with a hostile name is a
// "not found" (a 4xx), never a server error.
var ErrInvalidKey = fmt.Errorf("bbolt: key contains a NUL byte: %w", storage.ErrNotFound)

// sep separates the API name from the record ID in a key. Because neither
// may contain it, the prefix api+sep of API "a" never matches the records
// of API "ab".
const sep = "\x00"

// loc addresses a record (or, for list, a key prefix) in one bucket. err is
// set when the key could not be built; every operation checks it first.
type loc struct {
	bucket []byte
	key    []byte
	err    error
}

// at addresses record id of API api in bucket.
func at(bucket, api, id string) loc {
	if strings.Contains(api, sep) || strings.Contains(id, sep) {
		return loc{err: ErrInvalidKey}
	}
	return loc{bucket: []byte(bucket), key: []byte(api + sep + id)}
}

// in addresses every record of API api in bucket, by key prefix.
func in(bucket, api string) loc {
	if strings.Contains(api, sep) {
		return loc{err: ErrInvalidKey}
	}
	return loc{bucket: []byte(bucket), key: []byte(api + sep)}
}

// atAPI addresses the API record name; APIs are keyed by name alone.
func atAPI(name string) loc { return atTop(bucketAPIs, name) }

// atTop addresses record id of a kind that belongs to no API (APIs, admin
// keys), keyed by id alone.
func atTop(bucket, id string) loc {
	if strings.Contains(id, sep) {
		return loc{err: ErrInvalidKey}
	}
	return loc{bucket: []byte(bucket), key: []byte(id)}
}

// allAPIs addresses every API record.
func allAPIs() loc {
	return loc{bucket: []byte(bucketAPIs)}
}
