"""Task pieces the templates need beyond plain layers: greedy seq2seq decoding, detection
decoding, NMS and mAP, and the metrics the trainer scores them with."""
