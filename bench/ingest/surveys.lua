-- wrk script for bench/ingest: POST /v1/surveys with realistic surveys (SPEC section 2), each with
-- a UNIQUE interaction_id (run id, wrk thread, counter) so the collector's dedupe never
-- short-circuits a request. The same script drives hearken and nginx, so both get the same bytes.
--
--   wrk -t2 -c64 -d10s -s surveys.lua URL -- RUN_ID RESULT_FILE [INGEST_KEY]
--
-- RESULT_FILE gets one "name value" line each: requests sent, responses by status, latency
-- percentiles (microseconds) and wrk's own error counters; bench/ingest/run reads it.

local threads = {}

function setup(thread)
    thread:set("tid", #threads + 1)
    table.insert(threads, thread)
end

local agents = {}
for i = 1, 40 do agents[i] = string.format("agent-%02d", i) end
local teams = { "team-a", "team-b", "team-c", "team-d" }
local scenarios = { "billing_error", "service_interruption", "product_quality",
                    "cancellation_return", "tech_support", "complaint_escalation", "other" }
local channels = { "voice", "chat", "email", "web" }
local behaviors = { "apologized", "acknowledged_feelings", "showed_concern", "offered_goodwill",
                    "calm_tone", "listened_actively", "used_my_name", "did_not_interrupt",
                    "was_patient", "made_no_assumptions" }
-- Comments as customers write them: short and long, praise and complaint, negation, contrast,
-- caps, emoji and non-ASCII text (JSON-escaped where needed), and none at all.
local comments = {
    "Priya listened without interrupting and fixed the double charge. I'll recommend you.",
    "I had to repeat my account number three times and was on hold for an hour.",
    "Quick and easy, thank you!",
    "The agent was rude and cut me off. I'm cancelling.",
    "",
    "He apologised for the outage, explained what went wrong and gave me a voucher. Honestly above and beyond.",
    "Nobody listened. I was transferred four times and still don't have an answer. Never again.",
    "Fine, I guess. Took a while but it's sorted now.",
    "She used my name, stayed calm even though I was really angry, and sorted the refund on the first call 👍",
    "The product arrived broken and the chat bot kept sending me the same link. When I finally reached a person she was lovely but couldn't do anything.",
    "NOT HAPPY. I've been a customer for 12 years and was treated like a number!!!",
    "Très bien, merci — the agent was patient with my English.",
    "They didn't make me feel rushed at all, which I appreciated after a long day. The discount was a nice touch but what I really wanted was for the engineer to turn up when promised.",
    "ok",
    "Called back twice, nobody had notes from the previous call so I had to explain everything again. The third agent was great though, she actually understood the problem.",
}

local function json_string(s)
    return '"' .. s:gsub('[%c"\\]', function(c)
        if c == '"' then return '\\"' end
        if c == '\\' then return '\\\\' end
        return string.format("\\u%04x", c:byte())
    end) .. '"'
end
for i, c in ipairs(comments) do comments[i] = c ~= "" and json_string(c) or false end

local counter = 0
local NBODIES = 4093 -- distinct bodies per thread (prime, so the fields' cycles do not align)
local tails = {}     -- each survey's JSON after its interaction_id
local head, id_prefix

-- Everything of survey i but its interaction_id; built once in init() so the per-request cost in
-- wrk stays small (wrk's Lua, not the server, is otherwise what limits the nginx peer).
local function survey_tail(i)
    local parts = {
        '","agent_id":"', agents[i % #agents + 1], '"',
        ',"team_id":"', teams[i % #teams + 1], '"',
        ',"scenario":"', scenarios[i % #scenarios + 1], '"',
        ',"channel":"', channels[i % #channels + 1], '"',
        ',"language":"en"',
        ',"submitted_at":"', os.date("!%Y-%m-%dT%H:%M:%SZ", start_time - (i * 7919) % (28 * 86400)), '"',
        ',"answers":{"nps":', i % 11, ',"csat":', 1 + i % 5, ',"ces":', 1 + i % 7,
        ',"felt_heard":', 1 + (i * 3) % 5, ',"felt_valued":', 1 + (i * 7) % 5, '}',
    }
    if i % 3 ~= 0 then  -- two in three customers tick some behaviours
        local b = {}
        for k = 1, #behaviors do
            if (i + k) % 4 ~= 0 then
                b[#b + 1] = '"' .. behaviors[k] .. '":' .. (((i * k) % 3 ~= 0) and "true" or "false")
            end
        end
        parts[#parts + 1] = ',"behaviors":{' .. table.concat(b, ",") .. '}'
    end
    local c = comments[i % #comments + 1]
    if c then
        parts[#parts + 1] = ',"comment":' .. c
    end
    parts[#parts + 1] = '}'
    return table.concat(parts)
end

function init(args)
    run_id = args[1] or "run"
    result_file = args[2]
    local key = args[3] or "bench-ingest-key-0123456789abcdef"
    local host = (wrk.headers and wrk.headers["Host"]) or (wrk.host .. ":" .. wrk.port)
    head = "POST /v1/surveys HTTP/1.1\r\nHost: " .. host ..
           "\r\nContent-Type: application/json\r\nAuthorization: Bearer " .. key ..
           "\r\nContent-Length: "
    id_prefix = '{"interaction_id":"bench-' .. run_id .. '-t' .. tid .. '-'
    start_time = os.time() - 60 -- answers from the last four weeks, never in the future
    for k = 1, NBODIES do tails[k] = survey_tail(k + tid * 1000003) end
    sent = 0
    n202 = 0
    nother = 0
    other = ""       -- "status=count,..." for anything but 202 (rare; rebuilt on each)
    other_counts = {}
end

function request()
    counter = counter + 1
    sent = counter
    local body = id_prefix .. counter .. tails[counter % NBODIES + 1]
    return head .. #body .. "\r\n\r\n" .. body
end

function response(status, hdrs, body)
    if status == 202 then
        n202 = n202 + 1
    else
        nother = nother + 1
        other_counts[status] = (other_counts[status] or 0) + 1
        local s = {}
        for k, v in pairs(other_counts) do s[#s + 1] = k .. "=" .. v end
        other = table.concat(s, ",")
    end
end

function done(summary, latency, requests)
    local sent_total, n202_total, nother_total, others = 0, 0, 0, {}
    for _, t in ipairs(threads) do
        sent_total = sent_total + t:get("sent")
        n202_total = n202_total + t:get("n202")
        nother_total = nother_total + t:get("nother")
        local o = t:get("other")
        if o ~= "" then others[#others + 1] = o end
    end
    local lines = {
        "requests_sent " .. sent_total,
        "responses " .. summary.requests,
        "status_202 " .. n202_total,
        "status_other " .. nother_total,
        "status_other_detail " .. (#others > 0 and table.concat(others, ",") or "-"),
        "duration_us " .. summary.duration,
        "bytes " .. summary.bytes,
        "p50_us " .. latency:percentile(50),
        "p90_us " .. latency:percentile(90),
        "p99_us " .. latency:percentile(99),
        "max_us " .. latency.max,
        "mean_us " .. latency.mean,
        "err_connect " .. summary.errors.connect,
        "err_read " .. summary.errors.read,
        "err_write " .. summary.errors.write,
        "err_status " .. summary.errors.status,
        "err_timeout " .. summary.errors.timeout,
    }
    local path = threads[1] and threads[1]:get("result_file") -- init() ran in the threads only
    if path then
        local f = assert(io.open(path, "w"))
        f:write(table.concat(lines, "\n"), "\n")
        f:close()
    else
        io.write(table.concat(lines, "\n"), "\n")
    end
end
