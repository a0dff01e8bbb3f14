"""A Python model that streams, served by MLServer unchanged: it says the text it is given back,
one word at a time, with MLServer's predict_stream.

Podium runs it with the `mlserver` runtime preset and calls its generate_stream endpoint (see
docs/streaming.md); nothing in here knows about Podium.
"""

import asyncio
from typing import AsyncIterator

from mlserver import MLModel
from mlserver.codecs import StringCodec
from mlserver.types import InferenceRequest, InferenceResponse


class WordsModel(MLModel):
    async def load(self) -> bool:
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        text = " ".join(StringCodec.decode_input(payload.inputs[0]))
        return InferenceResponse(model_name=self.name, outputs=[StringCodec.encode_output("text", [text])])

    async def predict_stream(self, payloads: AsyncIterator[InferenceRequest]) -> AsyncIterator[InferenceResponse]:
        payload = await payloads.__anext__()
        words = " ".join(StringCodec.decode_input(payload.inputs[0])).split(" ")
        delay = float((payload.parameters.model_extra or {}).get("delay_ms", 0) if payload.parameters else 0) / 1000
        for index, word in enumerate(words):
            if delay:
                await asyncio.sleep(delay)
            piece = word if index == 0 else f" {word}"
            yield InferenceResponse(model_name=self.name, outputs=[StringCodec.encode_output("text", [piece])])
