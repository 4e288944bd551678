"""Text in photos: which photos to read (`gate`), reading them (`engine`, rapidocr's PP-OCRv4 models on
onnxruntime), the stored text and its full-text index (`store`), the background pass that ties them
together (`reader`), and how recognised text joins a search (`search`)."""

MODES = ("likely", "all", "off")  # the `ocr` setting: read the photos the gate picks, every photo, or none
