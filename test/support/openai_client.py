"""Talks to Podium's OpenAI-compatible front door with OpenAI's Python SDK, as an existing
client would, and prints what it saw as one JSON object (test/integration/streaming.test.ts)."""

import json
import sys

import openai

base_url, token = sys.argv[1:3]
client = openai.OpenAI(base_url=base_url, api_key=token, max_retries=0)
seen = {"models": [model.id for model in client.models.list().data]}

raw = client.chat.completions.with_raw_response.create(
    model="markov", messages=[{"role": "user", "content": "We hold these"}], max_tokens=10
)
answer = raw.parse()
seen["chat"] = {
    "requestId": raw.headers["podium-request-id"],
    "text": answer.choices[0].message.content,
    "completionTokens": answer.usage.completion_tokens,
}

raw = client.chat.completions.with_raw_response.create(
    model="markov",
    messages=[{"role": "user", "content": "He has refused"}],
    max_tokens=25,
    stream=True,
    stream_options={"include_usage": True},
)
text, finish, usage = "", None, None
for chunk in raw.parse():
    if chunk.choices:
        text += chunk.choices[0].delta.content or ""
        finish = chunk.choices[0].finish_reason or finish
    if chunk.usage:
        usage = chunk.usage.completion_tokens
seen["stream"] = {"requestId": raw.headers["podium-request-id"], "text": text, "finish": finish, "usage": usage}

try:
    client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
except openai.NotFoundError as error:
    seen["unknownModel"] = {"status": error.status_code, "code": error.code}

print(json.dumps(seen))
