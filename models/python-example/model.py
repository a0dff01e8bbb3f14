"""A small Python model served by MLServer, unchanged: it upper-cases the text it is given.

Podium runs it with the `mlserver` runtime preset (see docs/models.md); nothing in here knows
about Podium.
"""

from mlserver import MLModel
from mlserver.codecs import StringCodec
from mlserver.types import InferenceRequest, InferenceResponse


class ShoutModel(MLModel):
    async def load(self) -> bool:
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        texts = StringCodec.decode_input(payload.inputs[0])
        shouted = [text.upper() for text in texts]
        return InferenceResponse(
            model_name=self.name,
            outputs=[StringCodec.encode_output("shouted", shouted)],
        )
