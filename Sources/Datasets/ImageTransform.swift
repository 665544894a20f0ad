import Foundation

/// Grey (1 channel, by luminance), colour (3 channels: red, green, blue), or auto: grey when the
/// pictures are all grey (every pixel R = G = B: grey files, palette-grey files, grey JPEGs),
/// colour otherwise.
public enum ColourMode: String, Codable, CaseIterable, Sendable {
    case auto, grey, colour

    /// 1 for grey, 3 for colour; auto has no channel count until it is resolved.
    public var channels: Int {
        precondition(self != .auto, "resolve the auto colour mode (ColourMode.resolved) before asking its channels")
        return self == .grey ? 1 : 3
    }

    /// Auto resolved for pictures that are all grey (`allGrey`) or not; grey and colour unchanged.
    public func resolved(allGrey: Bool) -> ColourMode { self == .auto ? (allGrey ? .grey : .colour) : self }

    /// The colour mode of images with `channels` channels.
    public init(channels: Int) { self = channels == 3 ? .colour : .grey }
}

/// A picture made ready for a model: C x H x W values in [0, 1], planar, with what was done.
public struct TransformedImage: Sendable {
    /// C x H x W values in [0, 1], channel after channel, each row-major.
    public var values: [Float]
    /// The image's shape.
    public let shape: ImageShape
    /// What was done, e.g. "640x480 PNG RGB -> centre crop, resize to 32x32 (area), colour".
    public var description: String

    /// A transformed image and how it was made.
    public init(values: [Float], shape: ImageShape, description: String) {
        precondition(values.count == shape.count, "a \(shape) image needs \(shape.count) values, got \(values.count)")
        (self.values, self.shape, self.description) = (values, shape, description)
    }
}

/// The one way a decoded picture becomes a model's image, used by image folders, the explorer's
/// upload and `vae encode --image` alike:
///
/// 1. composite on white where it is transparent: c · a + 255 · (1 − a), a = alpha / 255;
/// 2. optionally crop to its largest centred region of the target's aspect ratio;
/// 3. resize to height x width by area-weighted (box) resampling: each output pixel is the mean
///    of the source area it covers, weighted by overlap (no aliasing when shrinking);
/// 4. grey by luminance (0.299 R + 0.587 G + 0.114 B; a grey pixel keeps its level exactly), or
///    colour; values are level / 255;
/// 5. optionally round every value to the nearest 8-bit level k / 255.
///
/// With `digitBox` set, the picture is framed the way MNIST's digits were made instead: grey,
/// inverted when its border is light (light ink on a dark ground), the ink's bounding box scaled
/// (keeping its aspect) to fit digitBox x digitBox, placed in the height x width frame with its
/// centre of mass at the frame's centre. A picture already of the frame's size in the dataset's
/// polarity is kept as it is.
public struct ImageTransform: Codable, Equatable, Sendable {
    /// The size to resize to; nil keeps the picture's own size.
    public var height: Int?
    /// See `height`; both are set or neither.
    public var width: Int?
    /// Crop to the largest centred region of the target's aspect ratio before resizing
    /// (otherwise the picture is squeezed).
    public var centreCrop: Bool
    /// Grey, colour, or auto (per picture: grey when every pixel is grey).
    public var colour: ColourMode
    /// MNIST-style framing: the side of the box the ink is scaled to fit (nil: none).
    public var digitBox: Int?
    /// Round every value to the nearest 8-bit level after the other steps.
    public var quantize: Bool

    /// Levels above this fraction of the brightest level count as ink when framing a digit.
    public static let inkThreshold: Float = 0.2

    /// A transform; see the properties.
    public init(height: Int? = nil, width: Int? = nil, centreCrop: Bool = false, colour: ColourMode = .colour,
                digitBox: Int? = nil, quantize: Bool = false) {
        precondition((height == nil) == (width == nil), "a transform's size has both a height and a width, or neither")
        precondition(digitBox == nil || (height != nil && digitBox! > 0 && digitBox! <= min(height!, width!)), "a digit box needs a frame at least as large")
        (self.height, self.width, self.centreCrop, self.colour, self.digitBox, self.quantize) = (height, width, centreCrop, colour, digitBox, quantize)
    }

    /// The shape `image` comes out as.
    public func shape(of image: DecodedImage) -> ImageShape {
        let mode = colour.resolved(allGrey: digitBox != nil || (colour == .auto && image.isGrey))
        return ImageShape(channels: mode.channels, height: height ?? image.height, width: width ?? image.width)
    }

    /// E.g. "centre crop, resize to 32x32 (area), colour, 8-bit levels".
    public var summary: String {
        if let digitBox, let height, let width {
            return "grey, light ink on dark, ink box scaled to fit \(digitBox)x\(digitBox), centred by mass in \(height)x\(width)"
        }
        var parts: [String] = []
        if centreCrop { parts.append("centre crop") }
        if let height, let width { parts.append("resize to \(height)x\(width) (area)") }
        parts.append(colour == .auto ? "colour auto" : colour.rawValue)
        if quantize { parts.append("8-bit levels") }
        return parts.joined(separator: ", ")
    }

    /// `image` through the transform (see the type).
    public func apply(_ image: DecodedImage) -> TransformedImage {
        let source = "\(image.width)x\(image.height) \(image.sourceFormat)"
        if let digitBox, let height, let width { return frameDigit(image, box: digitBox, height: height, width: width, source: source) }
        let mode = colour.resolved(allGrey: colour == .auto && image.isGrey)
        let targetHeight = height ?? image.height, targetWidth = width ?? image.width
        let values = Self.resize(image, region: sourceRegion(image, targetHeight: targetHeight, targetWidth: targetWidth),
                                 toWidth: targetWidth, toHeight: targetHeight, colour: mode)
        let shape = ImageShape(channels: mode.channels, height: targetHeight, width: targetWidth)
        var applied = self
        applied.colour = mode
        return TransformedImage(values: quantize ? values.map { ($0 * 255).rounded() / 255 } : values, shape: shape,
                                description: "\(source) -> \(applied.summary)")
    }

    /// The source region: the whole picture, or its largest centred region of the target's aspect.
    func sourceRegion(_ image: DecodedImage, targetHeight: Int, targetWidth: Int) -> Region {
        var region = Region(x: 0, y: 0, width: Double(image.width), height: Double(image.height))
        guard centreCrop else { return region }
        let aspect = Double(targetWidth) / Double(targetHeight)
        if Double(image.width) / Double(image.height) > aspect {
            region.width = Double(image.height) * aspect
            region.x = (Double(image.width) - region.width) / 2
        } else {
            region.height = Double(image.width) / aspect
            region.y = (Double(image.height) - region.height) / 2
        }
        return region
    }

    /// A rectangle of source pixels, in pixel units.
    struct Region: Equatable {
        var x, y, width, height: Double
    }

    /// For each of `count` output cells spanning [start, start + length) of `source` cells, the
    /// source cells it overlaps and the share of its length each takes.
    static func weights(_ start: Double, _ length: Double, source: Int, count: Int) -> [[(Int, Float)]] {
        let step = length / Double(count)
        return (0..<count).map { i in
            let low = start + Double(i) * step, high = low + step
            var taps: [(Int, Float)] = []
            var j = max(0, Int(low.rounded(.down)))
            while Double(j) < high && j < source {
                let overlap = min(high, Double(j + 1)) - max(low, Double(j))
                if overlap > 1e-12 { taps.append((j, Float(overlap / step))) }
                j += 1
            }
            return taps
        }
    }

    /// Composites `region` of the image on white and resamples it to toWidth x toHeight by area,
    /// as C x H x W values in [0, 1] of `colour` (grey or colour). The horizontal pass reads the
    /// RGBA bytes directly, so the memory beyond the output is 3 · toWidth · image.height floats.
    static func resize(_ image: DecodedImage, region: Region, toWidth: Int, toHeight: Int, colour: ColourMode) -> [Float] {
        let (width, height) = (image.width, image.height)
        let columns = weights(region.x, region.width, source: width, count: toWidth)
        let rows = weights(region.y, region.height, source: height, count: toHeight)
        // Planes of width toWidth and the source's height: composited, resampled across.
        var horizontal = [Float](repeating: 0, count: 3 * toWidth * height)
        image.rgba.withUnsafeBufferPointer { rgba in
            horizontal.withUnsafeMutableBufferPointer { out in
                for y in 0..<height {
                    for (x, taps) in columns.enumerated() {
                        for channel in 0..<3 {
                            var total: Float = 0
                            for (j, w) in taps {
                                let pixel = 4 * (y * width + j)
                                let alpha = Float(rgba[pixel + 3]) / 255
                                total += (Float(rgba[pixel + channel]) * alpha + 255 * (1 - alpha)) * w
                            }
                            out[(channel * height + y) * toWidth + x] = total
                        }
                    }
                }
            }
        }
        let size = toWidth * toHeight
        let planes = verticalPass(horizontal, planes: 3, sourceHeight: height, width: toWidth, rows: rows)
        switch colour {
        case .grey:
            return (0..<size).map { index in
                let (r, g, b) = (planes[index], planes[size + index], planes[2 * size + index])
                // A grey pixel keeps its level exactly, as it would read in colour.
                let level = r == g && g == b ? r : (299 * r + 587 * g + 114 * b) / 1000
                return min(max(level / 255, 0), 1)
            }
        case .colour, .auto:
            return planes.map { min(max($0 / 255, 0), 1) }
        }
    }

    /// MNIST-style framing (see the type).
    func frameDigit(_ image: DecodedImage, box: Int, height side: Int, width frameWidth: Int, source: String) -> TransformedImage {
        let (width, height) = (image.width, image.height)
        var steps = [source + (image.isGrey ? "" : " -> grey by luminance")]
        // The picture's own grey levels, rounded to 8 bits.
        let levels = Self.resize(image, region: Region(x: 0, y: 0, width: Double(width), height: Double(height)),
                                 toWidth: width, toHeight: height, colour: .grey)
        var grey = levels.map { ($0 * 255).rounded() / 255 }
        var border: Float = 0
        var borderCount = 0
        for y in 0..<height {
            for x in 0..<width where y == 0 || y == height - 1 || x == 0 || x == width - 1 {
                border += grey[y * width + x]
                borderCount += 1
            }
        }
        if border / Float(borderCount) > 0.5 {
            for index in grey.indices { grey[index] = 1 - grey[index] }
            steps.append("inverted (light background) to light ink on dark")
        }
        let shape = ImageShape.grey(height: side, width: frameWidth)
        if width == frameWidth && height == side {
            steps.append("already \(frameWidth)x\(side): kept as it is")
            return TransformedImage(values: grey, shape: shape, description: steps.joined(separator: "; "))
        }
        // The ink's bounding box.
        let brightest = grey.max() ?? 0
        var (minX, minY, maxX, maxY) = (width, height, -1, -1)
        if brightest > 0 {
            for y in 0..<height {
                for x in 0..<width where grey[y * width + x] > Self.inkThreshold * brightest {
                    (minX, minY, maxX, maxY) = (min(minX, x), min(minY, y), max(maxX, x), max(maxY, y))
                }
            }
        }
        if maxX < 0 { (minX, minY, maxX, maxY) = (0, 0, width - 1, height - 1) }
        let (inkWidth, inkHeight) = (maxX - minX + 1, maxY - minY + 1)
        let scale = Double(box) / Double(max(inkWidth, inkHeight))
        let (outWidth, outHeight) = (max(1, Int((Double(inkWidth) * scale).rounded())), max(1, Int((Double(inkHeight) * scale).rounded())))
        var crop = [Float](repeating: 0, count: inkWidth * inkHeight)
        for y in 0..<inkHeight {
            for x in 0..<inkWidth { crop[y * inkWidth + x] = grey[(minY + y) * width + minX + x] }
        }
        let patch = Self.resample(crop, width: inkWidth, region: Region(x: 0, y: 0, width: Double(inkWidth), height: Double(inkHeight)),
                                  sourceHeight: inkHeight, toWidth: outWidth, toHeight: outHeight)
        // Centre of mass (pixel centres at i + 0.5) moved to the frame's centre, kept inside.
        var (mass, sumX, sumY) = (0.0, 0.0, 0.0)
        for y in 0..<outHeight {
            for x in 0..<outWidth {
                let value = Double(patch[y * outWidth + x])
                (mass, sumX, sumY) = (mass + value, sumX + value * (Double(x) + 0.5), sumY + value * (Double(y) + 0.5))
            }
        }
        let (centreX, centreY) = mass > 0 ? (sumX / mass, sumY / mass) : (Double(outWidth) / 2, Double(outHeight) / 2)
        let left = min(max(Int((Double(frameWidth) / 2 - centreX).rounded()), 0), frameWidth - outWidth)
        let top = min(max(Int((Double(side) / 2 - centreY).rounded()), 0), side - outHeight)
        var pixels = [Float](repeating: 0, count: side * frameWidth)
        for y in 0..<outHeight {
            for x in 0..<outWidth { pixels[(top + y) * frameWidth + left + x] = min(max(patch[y * outWidth + x], 0), 1) }
        }
        steps.append("ink \(inkWidth)x\(inkHeight) scaled to \(outWidth)x\(outHeight) and centred by mass in \(frameWidth)x\(side)")
        return TransformedImage(values: pixels, shape: shape, description: steps.joined(separator: "; "))
    }

    /// Area-weighted resampling of `region` of one plane (`width` columns, `sourceHeight` rows).
    static func resample(_ plane: [Float], width: Int, region: Region, sourceHeight: Int, toWidth: Int, toHeight: Int) -> [Float] {
        let columns = weights(region.x, region.width, source: width, count: toWidth)
        let rows = weights(region.y, region.height, source: sourceHeight, count: toHeight)
        var horizontal = [Float](repeating: 0, count: toWidth * sourceHeight)
        for y in 0..<sourceHeight {
            for (x, taps) in columns.enumerated() {
                var total: Float = 0
                for (j, w) in taps { total += plane[y * width + j] * w }
                horizontal[y * toWidth + x] = total
            }
        }
        return verticalPass(horizontal, planes: 1, sourceHeight: sourceHeight, width: toWidth, rows: rows)
    }

    /// The second pass of the area resampling: `planes` planes of `width` columns and
    /// `sourceHeight` rows, each output row the `rows` taps' weighted sum of source rows.
    static func verticalPass(_ horizontal: [Float], planes: Int, sourceHeight: Int, width: Int, rows: [[(Int, Float)]]) -> [Float] {
        let size = width * rows.count
        var out = [Float](repeating: 0, count: planes * size)
        for plane in 0..<planes {
            for (y, taps) in rows.enumerated() {
                for x in 0..<width {
                    var total: Float = 0
                    for (i, w) in taps { total += horizontal[(plane * sourceHeight + i) * width + x] * w }
                    out[plane * size + y * width + x] = total
                }
            }
        }
        return out
    }
}
