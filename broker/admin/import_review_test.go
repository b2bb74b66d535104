package admin

import (
	"strings"
	"testing"
)

// An import remembers the client ids and provider names it looked up
// (maxCached of them): a line naming a longer one than any client or
// provider can have is refused before the lookup, so 4096 lines of 60
// KiB names cannot pin 256 MiB for the import's duration. The reason
// never quotes the value.
func TestImportLineNamesAreBounded(t *testing.T) {
	long := strings.Repeat("c", 60<<10)
	for _, line := range []string{
		`{"client_id":"` + long + `","client_user_identity":"u","provider":"p","access_token":"t"}`,
		`{"client_id":"app","client_user_identity":"u","provider":"` + long + `","access_token":"t"}`,
	} {
		_, err := parseImportLine([]byte(line))
		if err == nil {
			t.Errorf("a line with a %d-byte name was accepted", len(long))
			continue
		}
		if strings.Contains(err.Error(), "ccc") {
			t.Errorf("the reason quotes the value: %.100s", err)
		}
	}
	if _, err := parseImportLine([]byte(`{"client_id":"` + strings.Repeat("c", 128) + `","client_user_identity":"u","provider":"p","access_token":"t"}`)); err != nil {
		t.Errorf("a 128-byte client id: %v", err)
	}
}
