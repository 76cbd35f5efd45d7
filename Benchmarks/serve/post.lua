-- wrk script: POST the body in $BODY_FILE with $CONTENT_TYPE, and the KServe binary header
-- Inference-Header-Content-Length: $HEADER_LENGTH when it is set.
wrk.method = "POST"
local file = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.body = file:read("*all")
file:close()
wrk.headers["Content-Type"] = os.getenv("CONTENT_TYPE") or "application/json"
local header_length = os.getenv("HEADER_LENGTH")
if header_length and header_length ~= "" then
  wrk.headers["Inference-Header-Content-Length"] = header_length
end
