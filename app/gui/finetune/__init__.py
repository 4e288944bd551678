"""The fine-tuning wizard (Tools ▸ Personalise the model…): labelled photos in, a better search model out.

Page ids are shared here so pages can say which page follows them without importing the wizard.
"""

DATA, METHOD, ADVANCED, CAPTIONS, TRAINING, RESULT = range(6)
