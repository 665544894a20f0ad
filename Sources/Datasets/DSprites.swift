import Foundation

/// One generative factor of a dataset with known factors: its name and the values it takes,
/// by class.
public struct Factor: Equatable, Sendable {
    /// The factor's name, as a CSV column or a label names it ("shape", "scale", "posX", ...).
    public let name: String
    /// The value of each class, in class order.
    public let values: [Double]
    /// Whether the classes are categories (shape) rather than points on a scale.
    public let isCategorical: Bool

    /// The number of classes.
    public var count: Int { values.count }

    /// A factor named `name` whose classes take `values`.
    public init(name: String, values: [Double], isCategorical: Bool = false) {
        (self.name, self.values, self.isCategorical) = (name, values, isCategorical)
    }

    /// `count` values evenly spaced from `first` to `last`, both included (NumPy's `linspace`).
    public static func evenlySpaced(_ name: String, from first: Double, to last: Double, count: Int) -> Factor {
        Factor(name: name, values: (0..<count).map { count == 1 ? first : first + (last - first) * Double($0) / Double(count - 1) })
    }
}

/// dSprites (Matthey, Higgins, Hassabis & Lerchner 2017, the dataset of the β-VAE paper): 64x64
/// binary images of one white shape, every combination of six factors exactly once, in the
/// order of the factors with the last varying fastest:
///
/// | factor | classes | values |
/// |---|---|---|
/// | color | 1 | 1 (white) |
/// | shape | 3 | 1 square, 2 ellipse, 3 heart |
/// | scale | 6 | 0.5 … 1, evenly spaced |
/// | orientation | 40 | 0 … 2π, evenly spaced, both ends included (so the first and last classes draw the same image) |
/// | posX | 32 | 0 … 1, evenly spaced |
/// | posY | 32 | 0 … 1, evenly spaced |
///
/// 1 · 3 · 6 · 40 · 32 · 32 = 737,280 images. The original file
/// (`dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`: `imgs` uint8 [737280, 64, 64],
/// `latents_classes` int64 and `latents_values` float64 [737280, 6]) is read when present;
/// otherwise `render` draws the same grid procedurally into a file of the same form.
public enum DSprites {
    /// The original file's name.
    public static let originalFileName = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
    /// The name of the file `vae data --make dsprites` renders.
    public static let renderedFileName = "dsprites-rendered.npz"
    /// The side of every image, in pixels.
    public static let side = 64

    /// The six factors, in the file's column order.
    public static let factors: [Factor] = [
        Factor(name: "color", values: [1], isCategorical: true),
        Factor(name: "shape", values: [1, 2, 3], isCategorical: true),
        .evenlySpaced("scale", from: 0.5, to: 1, count: 6),
        .evenlySpaced("orientation", from: 0, to: 2 * Double.pi, count: 40),
        .evenlySpaced("posX", from: 0, to: 1, count: 32),
        .evenlySpaced("posY", from: 0, to: 1, count: 32),
    ]
    /// The shapes' names, by shape class.
    public static let shapeNames = ["square", "ellipse", "heart"]

    /// The number of images of a grid, the product of its factors' class counts (737,280 for
    /// dSprites' own).
    public static func count(_ grid: [Factor] = factors) -> Int { grid.reduce(1) { $0 * $1.count } }

    /// The factor classes of image `index` of `grid` (the last factor varies fastest).
    public static func classes(ofImage index: Int, grid: [Factor] = factors) -> [Int] {
        var rest = index
        var classes = [Int](repeating: 0, count: grid.count)
        for (position, factor) in grid.enumerated().reversed() {
            classes[position] = rest % factor.count
            rest /= factor.count
        }
        return classes
    }

    /// The index of the image with these factor classes in `grid`.
    public static func index(ofClasses classes: [Int], grid: [Factor] = factors) -> Int {
        precondition(classes.count == grid.count && zip(classes, grid).allSatisfy { (0..<$1.count).contains($0) }, "classes \(classes) are off the grid")
        return zip(classes, grid).reduce(0) { $0 * $1.1.count + $1.0 }
    }

    // MARK: - Rendering

    /// Where a shape's centre lies, in pixels from the image's left (or top) edge, for a
    /// position value p in [0, 1]: 12 + 40 p, so that the largest shape, turned, stays inside.
    public static func centre(_ position: Double) -> Double { 12 + 40 * position }

    /// The half-size of each shape at scale 1, in pixels: the square's half-side, the ellipse's
    /// semi-axes (along x, along y), the heart's unit.
    static let squareHalfSide = 7.5, ellipseAxes = (10.0, 5.0), heartUnit = 7.5

    /// Whether a point (u, v), in pixels from the shape's centre in the shape's own frame (u to
    /// the right, v up) at scale 1, lies inside `shape` (0 square, 1 ellipse, 2 heart).
    ///
    /// - square: |u|, |v| ≤ 7.5;
    /// - ellipse: (u/10)² + (v/5)² ≤ 1;
    /// - heart: the sextic (x² + y² − 1)³ ≤ x² y³ with x = u/7.5, y = v/7.5 + 0.125 (the curve
    ///   spans y in −1 … 1.25, so its box is centred), pointing down.
    public static func isInside(shape: Int, u: Double, v: Double) -> Bool {
        switch shape {
        case 0: return abs(u) <= squareHalfSide && abs(v) <= squareHalfSide
        case 1: let (a, b) = (u / ellipseAxes.0, v / ellipseAxes.1); return a * a + b * b <= 1
        default:
            let x = u / heartUnit, y = v / heartUnit + 0.125
            let r = x * x + y * y - 1
            return r * r * r <= x * x * y * y * y
        }
    }

    /// Draws the image of `classes` (six factor classes of `grid`) into `pixels` (64 · 64 bytes, row after
    /// row, top first): 1 where a pixel's centre lies inside the shape, 0 elsewhere. The shape
    /// is scaled by its scale, turned counter-clockwise by its orientation (as seen, y up), and
    /// centred at (`centre(posX)`, `centre(posY)`), y counted down from the top row.
    package static func render(classes: [Int], grid: [Factor] = factors, into pixels: UnsafeMutablePointer<UInt8>) {
        let shape = Int(grid[1].values[classes[1]]) - 1
        let scale = grid[2].values[classes[2]], angle = grid[3].values[classes[3]]
        let (centreX, centreY) = (centre(grid[4].values[classes[4]]), centre(grid[5].values[classes[5]]))
        let (cosine, sine) = (cos(angle), sin(angle))
        pixels.initialize(repeating: 0, count: side * side)
        // No shape reaches further than 12.2 pixels from its centre at scale 1.
        let reach = 12.5 * scale + 1
        let rows = max(0, Int((centreY - reach).rounded(.down)))...min(side - 1, Int((centreY + reach).rounded(.up)))
        let columns = max(0, Int((centreX - reach).rounded(.down)))...min(side - 1, Int((centreX + reach).rounded(.up)))
        for row in rows {
            let up = centreY - (Double(row) + 0.5)
            for column in columns {
                let right = Double(column) + 0.5 - centreX
                // Into the shape's frame: turn back by the angle, undo the scale.
                let u = (cosine * right + sine * up) / scale, v = (-sine * right + cosine * up) / scale
                if isInside(shape: shape, u: u, v: v) { pixels[row * side + column] = 1 }
            }
        }
    }

    /// Renders the whole of `grid` (dSprites' own unless a test gives a smaller one with the
    /// same six columns) into a `.npz` archive of the original's form: `imgs` uint8
    /// [737280, 64, 64], `latents_classes` int64 and `latents_values` float64 [737280, 6].
    /// `progress` is told the images done, now and then.
    public static func renderArchive(grid: [Factor] = factors, progress: (Int) -> Void = { _ in }) -> NumpyArchiveWriter {
        var archive = NumpyArchiveWriter()
        let total = count(grid)
        archive.add("imgs", header: NumpyHeader(elementType: .uint8, shape: [total, side, side])) { emit in
            let batch = 4096
            let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: batch * side * side)
            defer { buffer.deallocate() }
            var first = 0
            while first < total {
                let images = min(batch, total - first)
                for offset in 0..<images { render(classes: classes(ofImage: first + offset, grid: grid), grid: grid, into: buffer + offset * side * side) }
                emit(UnsafeRawBufferPointer(start: buffer, count: images * side * side))
                first += images
                progress(first)
            }
        }
        var classColumns: [Int64] = [], valueColumns: [Double] = []
        classColumns.reserveCapacity(total * grid.count)
        valueColumns.reserveCapacity(total * grid.count)
        for index in 0..<total {
            for (position, factorClass) in classes(ofImage: index, grid: grid).enumerated() {
                classColumns.append(Int64(factorClass))
                valueColumns.append(grid[position].values[factorClass])
            }
        }
        archive.add("latents_classes", NumpyArray(int64: classColumns, shape: [total, grid.count]))
        archive.add("latents_values", NumpyArray(float64: valueColumns, shape: [total, grid.count]))
        return archive
    }

    // MARK: - Reading

    /// The images a run on dSprites evaluates on: this many of the grid's, every model trained on all of them.
    public static let testImageCount = 10_000

    /// The test images' indices among `count` images: the first `testImageCount` of a
    /// permutation drawn by a fixed seed (a SplitMix64 Fisher–Yates shuffle), in increasing order.
    public static func testIndices(of count: Int) -> [Int] {
        var order = Array(0..<count)
        var state: UInt64 = 0xD5_9817_E5
        for position in stride(from: count - 1, to: 0, by: -1) {
            state &+= 0x9E37_79B9_7F4A_7C15
            var mixed = state
            mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
            mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
            mixed ^= mixed >> 31
            order.swapAt(position, Int(mixed % UInt64(position + 1)))
        }
        return order.prefix(min(testImageCount, count)).sorted()
    }

    /// The dSprites file in `dataDirectory` (default `./data`) or its `dsprites` subfolder: the
    /// original file when present, else the rendered one; nil when neither is there.
    public static func locate(dataDirectory: URL? = nil) -> URL? {
        let root = dataDirectory ?? URL(fileURLWithPath: "data")
        let folders = dataDirectory == nil ? [root.appendingPathComponent("dsprites")] : [root, root.appendingPathComponent("dsprites")]
        for name in [originalFileName, renderedFileName] {
            for folder in folders where FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path) {
                return folder.appendingPathComponent(name)
            }
        }
        return nil
    }

    /// Reads a dSprites archive (the original file, or one `renderArchive` wrote), checking
    /// every array's type and shape, that the pixels are 0 or 1, and that the factor classes
    /// run over the grid in its order (`grid`: dSprites' own unless a test gives another). The
    /// images are kept packed, one bit per pixel.
    public static func read(_ url: URL, grid: [Factor] = factors) throws(NumpyArchiveError) -> FactorImages {
        let archive = try NumpyArchive(url: url)
        let total = count(grid), pixelsPerImage = side * side
        let classArray = try archive.array("latents_classes", of: [.int64, .int32], shape: [total, grid.count])
        let classColumns = classArray.doubles
        for index in 0..<total {
            let expected = classes(ofImage: index, grid: grid)
            for position in grid.indices where classColumns[index * grid.count + position] != Double(expected[position]) {
                throw .array("latents_classes", "row \(index) has class \(Int(classColumns[index * grid.count + position])) for \(grid[position].name), the grid's order has \(expected[position]) (not dSprites' factor grid)", file: url.path)
            }
        }
        let values = try archive.array("latents_values", of: [.float64, .float32], shape: [total, grid.count]).doubles
        for (index, value) in values.enumerated() {
            let position = index % grid.count, expected = grid[position].values[Int(classColumns[index])]
            guard abs(value - expected) <= 1e-6 * max(1, abs(expected)) else {
                throw .array("latents_values", "row \(index / grid.count) has \(grid[position].name) \(value), its class \(Int(classColumns[index])) has \(expected) on dSprites' grid", file: url.path)
            }
        }
        var bits = [UInt64](repeating: 0, count: total * pixelsPerImage / 64)
        var seen = 0
        try archive.stream("imgs") { header, chunk throws(NumpyArchiveError) in
            if seen == 0 {
                try NumpyArchive.check(header, name: "imgs", types: [.uint8], shape: [total, side, side])
            }
            guard let base = chunk.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
            for offset in 0..<chunk.count {
                let value = base[offset]
                if value == 0 { continue }
                let position = seen + offset
                guard value == 1 || value == 255 else {
                    throw .array("imgs", "pixel \(position % pixelsPerImage) of image \(position / pixelsPerImage) is \(value); dSprites' pixels are 0 or 1 (255 reads as 1)", file: url.path)
                }
                bits[position >> 6] |= 1 << UInt64(position & 63)
            }
            seen += chunk.count
        }
        guard seen == total * pixelsPerImage else { throw .array("imgs", "\(seen) pixels read of \(total * pixelsPerImage)", file: url.path) }
        return FactorImages(bits: bits, side: side, factors: grid, values: values, source: url.path)
    }
}

/// Binary square images stored one bit per pixel, each with the classes and values of known
/// generative factors (dSprites): the images of a disentanglement study.
/// Shapes: `bits` holds `count` images of side² bits, row after row, in words of 64 (bit b of
/// word w is pixel 64 w + b); `values` is [count, factors.count].
public struct FactorImages: Sendable {
    /// The packed pixels.
    public let bits: [UInt64]
    /// The images' side, in pixels.
    public let side: Int
    /// The factors, in column order.
    public let factors: [Factor]
    /// Each image's factor values, image after image.
    public let values: [Double]
    /// Where the images came from (a file path, or a description).
    public let source: String

    /// The number of images.
    public var count: Int { bits.count * 64 / (side * side) }

    /// Images of `side` x `side` bits with their factor `values`; side² must be a multiple of 64.
    public init(bits: [UInt64], side: Int, factors: [Factor], values: [Double], source: String) {
        precondition((side * side) % 64 == 0, "an image of \(side)x\(side) is not whole words of 64 bits")
        (self.bits, self.side, self.factors, self.values, self.source) = (bits, side, factors, values, source)
        precondition(values.count == count * factors.count, "\(values.count) factor values for \(count) images of \(factors.count) factors")
    }

    /// The factor classes of image `index`: each value's position among its factor's values.
    public func classes(ofImage index: Int) -> [Int] {
        factors.indices.map { position in
            let value = values[index * factors.count + position]
            return factors[position].values.enumerated().min { abs($0.element - value) < abs($1.element - value) }!.offset
        }
    }

    /// Writes image `index`'s pixels, 0 or 1, into `target` (side² values).
    package func copyImage(_ index: Int, into target: UnsafeMutablePointer<Float>) {
        ImageDataset.unpack(bits, image: index, valuesPerImage: side * side, into: target)
    }

    /// Every image as an `ImageDataset` of grey side x side images held one bit per pixel (no
    /// copy of the bits beyond the array's), labelled by `labelFactor`'s class when given.
    public func packedDataset(labelFactor: Int? = nil) -> ImageDataset {
        ImageDataset(bits: bits, shape: .grey(height: side, width: side), labels: labelFactor.map { labels(of: $0, indices: 0..<count) } ?? [],
                     classNames: labelFactor.map(classNames(of:)) ?? [])
    }

    /// The class names of factor `position`: the shape names for dSprites' shape, else its values.
    func classNames(of position: Int) -> [String] {
        factors[position].name == "shape" && factors[position].count == DSprites.shapeNames.count ? DSprites.shapeNames : factors[position].values.map { String($0) }
    }

    /// The class of factor `position` for each image of `indices`.
    func labels(of position: Int, indices: some Collection<Int>) -> [Int] {
        let factor = factors[position]
        if factor.count == 1 { return [Int](repeating: 0, count: indices.count) }
        let first = factor.values[0], step = (factor.values[factor.count - 1] - first) / Double(factor.count - 1)
        let evenlySpaced = factor.values.indices.allSatisfy { abs(factor.values[$0] - (first + step * Double($0))) <= 1e-9 * max(1, abs(factor.values[$0])) }
        return indices.map { index in
            let value = values[index * factors.count + position]
            if evenlySpaced { return min(max(Int(((value - first) / step).rounded()), 0), factor.count - 1) }
            return factor.values.enumerated().min { abs($0.element - value) < abs($1.element - value) }!.offset
        }
    }

    /// The images at `indices` as an `ImageDataset` of grey side x side images, 0 or 1,
    /// labelled by `labelFactor`'s class when given.
    public func dataset(_ indices: some Collection<Int>, labelFactor: Int? = nil) -> ImageDataset {
        let size = side * side
        var pixels = [Float](repeating: 0, count: indices.count * size)
        pixels.withUnsafeMutableBufferPointer { target in
            for (row, index) in indices.enumerated() { copyImage(index, into: target.baseAddress! + row * size) }
        }
        let imageLabels = labelFactor.map { self.labels(of: $0, indices: indices) } ?? []
        let names = labelFactor.map(classNames(of:)) ?? []
        return ImageDataset(pixels: pixels, shape: .grey(height: side, width: side), labels: imageLabels, classNames: names)
    }
}
