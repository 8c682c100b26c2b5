"""A neural network written from scratch in NumPy, that reads handwritten digits.

    model.py        the network: forward and backward propagation
    second_half.py  the second half of a large batch, in a worker process
    layers.py       dense, activation and dropout layers
    conv.py         convolution and max-pooling (the shipped model's CNN)
    activations.py  activation functions and their derivatives, side by side
    optimizers.py   gradient descent, momentum, Adam; learning-rate schedules
    augment.py      random distortions of training images
    training.py     recipes, presets and the step-by-step training loop
    recipe_rules.py every recipe setting's choices, bounds and help, in one table
    worker.py       training in a background thread (the Train page)
    evaluation.py   accuracy, per-class accuracy, confusion matrix
    modelfile.py    saving and loading models, safely
    digits.py       labelled digits, dev splits, per-digit subsets
    mnist.py        MNIST on any machine: cache, IDX files, mirrors
    wheel.py        MNIST from a PyPI wheel, unpickling arrays only
    csvfile.py      Kaggle-format CSVs
    files.py        the data folder; writing files atomically
    errors.py       UserError: the mistakes a user can fix
    shapes.py       28x28 images, 784 inputs, 10 digits; images as input columns
    preprocess.py   a canvas drawing -> an MNIST-style 28x28 image
    novelty.py      does a drawing look like any digit at all? (the digit atlas)
    visualise.py    pictures of weights, activations and saliency
    store.py        classes and labelled drawings, kept in a database
    database.py     the database under the store: SQLite or PostgreSQL
    drawings.py     the drawings of earlier versions, imported into the store
    bench.py        training speed against the machine's GEMM peak
    cli.py          python -m network train | evaluate | predict | bench | fetch

This package never imports Streamlit: the pages, the command line and the
tests all use it the same way.
"""
