"""Tests of the model layer: config, vendor clients against fake APIs, the tool loop."""
