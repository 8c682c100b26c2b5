"""The shape of the problem: 28x28 greyscale images of the ten digits."""

SIDE = 28                        # an MNIST image is SIDE x SIDE pixels
PIXELS = SIDE * SIDE             # 784: the input layer's width
IMAGE_SHAPE = (1, SIDE, SIDE)    # channels, rows, columns: what the first layer sees
N_CLASSES = 10                   # the digits 0..9: the output layer's width
