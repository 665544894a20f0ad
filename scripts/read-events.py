"""Reads a TensorBoard log folder with TensorBoard's own reader and prints what it holds as JSON.

    python3 scripts/read-events.py FOLDER

Uses tensorboard's EventAccumulator (pip install tensorboard; `bash scripts/install-dependencies.sh
--test` installs it in .build/tensorboard-python), which checks every record's masked CRC-32C and
drops what a SessionLog START orphans. Prints
    {"scalars": {tag: [[step, value], ...]},
     "images": {tag: [[step, width, height, png_bytes], ...]},
     "text": {tag: [[step, text], ...]},
     "hparams": {"session_start_info": {...}, "session_end_info": {...}}}
The toolkit's tests compare this with what they wrote.
"""
import json
import sys

from google.protobuf import json_format
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import metadata as hparams_metadata
from tensorboard.util import tensor_util


def plugin_tags(accumulator, plugin):
    """The tags of a plugin's summaries and their metadata content (empty when none were read)."""
    try:
        return accumulator.PluginTagToContent(plugin)
    except KeyError:
        return {}


def main(folder):
    accumulator = EventAccumulator(folder, size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    result = {"scalars": {}, "images": {}, "text": {}, "hparams": {}}
    for tag in tags["scalars"]:
        result["scalars"][tag] = [[event.step, event.value] for event in accumulator.Scalars(tag)]
    for tag in tags["images"]:
        result["images"][tag] = [[event.step, event.width, event.height, len(event.encoded_image_string)]
                                 for event in accumulator.Images(tag)]
    for tag in plugin_tags(accumulator, "text"):
        result["text"][tag] = [[event.step, tensor_util.make_ndarray(event.tensor_proto).item().decode("utf-8")]
                               for event in accumulator.Tensors(tag)]
    if plugin_tags(accumulator, "hparams"):
        parsers = {hparams_metadata.SESSION_START_INFO_TAG: hparams_metadata.parse_session_start_info_plugin_data,
                   hparams_metadata.SESSION_END_INFO_TAG: hparams_metadata.parse_session_end_info_plugin_data,
                   hparams_metadata.EXPERIMENT_TAG: hparams_metadata.parse_experiment_plugin_data}
        for tag, content in accumulator.PluginTagToContent("hparams").items():
            result["hparams"][tag.split("/")[-1]] = json_format.MessageToDict(parsers[tag](content))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
