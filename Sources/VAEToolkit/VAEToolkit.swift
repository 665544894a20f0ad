// One import for the whole library: `import VAEToolkit` brings every public module, from the
// tensors and their gradients to run folders and latent-space pictures. Each module can still be
// imported alone (`import TensorCore`, `import VAE`, ...) by a package that wants less.
@_exported import Datasets
@_exported import LatentTools
@_exported import NN
@_exported import Optimizers
@_exported import Persistence
@_exported import Runs
@_exported import SafeTensors
@_exported import TensorBoard
@_exported import TensorCore
@_exported import VAE
@_exported import VAEEvaluation
@_exported import VAEModels
@_exported import Visualization
