package hubspot

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/internal/testvectors"
	"github.com/counterdesk/counterdesk/ticket"
)

// Answers in the shapes HubSpot's documentation shows, with values of
// this project's own: the search answer of the CRM search guide, the
// associations v4 answers of the associations guide, a batch read, the
// account details and a file upload.
const (
	docSearch = `{
  "total": 2,
  "results": [
    {
      "id": "18227416",
      "properties": {
        "createdate": "2026-03-14T09:30:00.000Z",
        "hs_lastmodifieddate": "2026-03-14T10:02:11.356Z",
        "hs_object_id": "18227416",
        "hs_pipeline": "0",
        "hs_pipeline_stage": "2",
        "counterdesk_id": "0b9c2f8e-1d7a-4c55-9d0e-6f1a2b3c4d5e"
      },
      "createdAt": "2026-03-14T09:30:00.000Z",
      "updatedAt": "2026-03-14T10:02:11.356Z",
      "archived": false
    },
    {
      "id": "18227417",
      "properties": {
        "createdate": "2026-03-14T09:31:00.000Z",
        "hs_lastmodifieddate": "2026-03-14T10:05:00.001Z",
        "hs_object_id": "18227417",
        "hs_pipeline": "5214",
        "hs_pipeline_stage": "991",
        "counterdesk_id": null
      },
      "createdAt": "2026-03-14T09:31:00.000Z",
      "updatedAt": "2026-03-14T10:05:00.001Z",
      "archived": false
    }
  ],
  "paging": {"next": {"after": "2", "link": "?after=2"}}
}`
	docAssocBatch = `{
  "status": "COMPLETE",
  "results": [
    {
      "from": {"id": "33451"},
      "to": [
        {"toObjectId": 5790939450, "associationTypes": [
          {"category": "HUBSPOT_DEFINED", "typeId": 224, "label": null}
        ]}
      ]
    }
  ],
  "startedAt": "2026-03-14T10:22:42.152Z",
  "completedAt": "2026-03-14T10:22:42.167Z"
}`
	docAssocPage = `{
  "results": [
    {"toObjectId": 17705714757, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 227, "label": null}]},
    {"toObjectId": 6675245424, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 227, "label": null}]}
  ],
  "paging": {"next": {"after": "MjAw", "link": "https://api.hubapi.com/crm/v4/objects/tickets/1/associations/notes?after=MjAw"}}
}`
	docBatch = `{
  "status": "COMPLETE",
  "results": [
    {"id": "6675245424", "properties": {"hs_note_body": "<p><strong>[counterdesk] Internal note by bob</strong></p><p>Ask about the 9g servo.</p>", "hs_timestamp": "2026-03-14T09:30:00Z", "hubspot_owner_id": null, "hs_object_id": "6675245424"}, "createdAt": "2026-03-14T09:30:00.000Z", "updatedAt": "2026-03-14T09:30:00.000Z", "archived": false}
  ],
  "startedAt": "2026-03-14T10:22:42.152Z",
  "completedAt": "2026-03-14T10:22:42.167Z"
}`
	docAccount = `{"portalId": 2519445, "accountType": "STANDARD", "timeZone": "Europe/Amsterdam", "companyCurrency": "EUR", "additionalCurrencies": [], "utcOffset": "+01:00", "utcOffsetMilliseconds": 3600000, "uiDomain": "app-eu1.hubspot.com", "dataHostingLocation": "eu1"}`
	docUpload  = `{"id": "122692044085", "createdAt": "2026-03-14T10:22:42.152Z", "updatedAt": "2026-03-14T10:22:42.152Z", "archived": false, "parentFolderId": "122692510820", "name": "voicemail", "path": "/counterdesk/voicemail.wav", "size": 52044, "extension": "wav", "access": "PRIVATE", "isUsableInContent": false, "type": "AUDIO", "url": "https://api-eu1.hubspot.com/filemanager/api/v2/files/122692044085/signed-url-redirect"}`
	docError   = `{"status":"error","message":"Property values were not valid: [{\"isValid\":false,\"message\":\"99 was not one of the allowed options\",\"error\":\"INVALID_OPTION\",\"name\":\"hs_pipeline_stage\"}]","correlationId":"aeb5f871-7f07-4993-9211-075dc63e7cbf","category":"VALIDATION_ERROR"}`
)

func TestDecodeDocumentedShapes(t *testing.T) {
	p, err := decodePage([]byte(docSearch))
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 2 || len(p.Results) != 2 || p.next() != "2" || p.Results[1].prop("counterdesk_id") != "" {
		t.Errorf("search page: %+v", p)
	}
	tg := &Target{idField: DefaultIDField, pipeline: "0", stages: DefaultStages, statuses: map[string]ticket.Status{"1": ticket.StatusNew, "2": ticket.StatusPending}, wrote: map[string]wrote{}}
	changes := tg.changes(p.Results, nil, nil)
	if len(changes) != 2 || changes[0].Status != ticket.StatusPending || changes[0].ExternalID == "" ||
		changes[1].Status != "" || !changes[0].At.Equal(time.Date(2026, 3, 14, 10, 2, 11, 356e6, time.UTC)) {
		t.Errorf("changes: %+v", changes)
	}

	byFrom, err := decodeAssocBatch([]byte(docAssocBatch))
	if err != nil || len(byFrom["33451"]) != 1 || byFrom["33451"][0] != "5790939450" {
		t.Errorf("associations batch: %v, %v", byFrom, err)
	}
	ids, after, err := decodeAssocPage([]byte(docAssocPage))
	if err != nil || len(ids) != 2 || ids[0] != "17705714757" || after != "MjAw" {
		t.Errorf("associations page: %v %q %v", ids, after, err)
	}
	b, err := decodeBatch([]byte(docBatch))
	if err != nil || len(b.Results) != 1 {
		t.Fatalf("batch: %+v, %v", b, err)
	}
	if text, ours := noteText(b.Results[0].prop("hs_note_body")); !ours || text != "Ask about the 9g servo." {
		t.Errorf("note text %q, ours %v", text, ours)
	}
	a, err := decodeAccount([]byte(docAccount))
	if err != nil || a.PortalID != 2519445 || a.UIDomain != "app-eu1.hubspot.com" {
		t.Errorf("account: %+v, %v", a, err)
	}
	if id, err := decodeUpload([]byte(docUpload)); err != nil || id != "122692044085" {
		t.Errorf("upload: %q, %v", id, err)
	}
	// The fake answers errors in HubSpot's shape.
	var e map[string]string
	if err := json.Unmarshal([]byte(docError), &e); err != nil || e["category"] != "VALIDATION_ERROR" || e["correlationId"] == "" {
		t.Errorf("error body: %v %v", e, err)
	}
}

func TestDecodeRefusesOtherShapes(t *testing.T) {
	for _, body := range []string{
		`[]`, `{"results":[{"id":"abc"}]}`, `{"results":[{"id":""}]}`,
		`{"results":[],"paging":{"next":{"after":"x"}}}`, `not json`,
	} {
		if _, err := decodePage([]byte(body)); err == nil {
			t.Errorf("decodePage(%s) accepted it", body)
		}
	}
	if _, err := decodeAccount([]byte(`{"portalId":0}`)); err == nil {
		t.Error("decodeAccount accepted portal 0")
	}
	if _, err := decodeAccount([]byte(`{"portalId":1,"uiDomain":"evil.example/x"}`)); err == nil {
		t.Error("decodeAccount accepted a domain with a path")
	}
	if _, _, err := decodeAssocPage([]byte(`{"results":[{"toObjectId":-1}]}`)); err == nil {
		t.Error("decodeAssocPage accepted a negative id")
	}
}

// TestSharedVectors decodes the HubSpot answers kept in shared/testdata,
// if any. SOURCES.md names HubSpot's OpenAPI documents there but does not
// keep them (they are not licensed for copying), so that there is usually
// nothing to read.
func TestSharedVectors(t *testing.T) {
	dir := filepath.Join(testvectors.Dir(t), "hubspot")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Skipf("no HubSpot answers in %s", dir)
	}
	for _, en := range entries {
		if !strings.HasSuffix(en.Name(), ".json") || !strings.Contains(en.Name(), "search") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, en.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodePage(data); err != nil {
			t.Errorf("%s: %v", en.Name(), err)
		}
	}
}

func TestNoteRoundTrip(t *testing.T) {
	for _, text := range []string{
		"", "plain", "two\nlines", "windows\r\nline", "<b>not bold</b> & &amp; \"quoted\"",
		"trailing\n", "  spaced  out  ", "émoji 🛩️ and ü", "a\n\nparagraph",
	} {
		got, ours := noteText(noteHTML("Customer message (sms) from Jane", text))
		want := strings.TrimRight(strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", ""), "\n")
		if !ours || got != want {
			t.Errorf("round trip of %q = %q (ours %v)", text, got, ours)
		}
	}
	if got := htmlText("<div>Hi Jane,<br/>it ships <b>today</b>.</div>\n<div>Alex</div>"); got != "Hi Jane,\nit ships today.\nAlex" {
		t.Errorf("htmlText = %q", got)
	}
}
