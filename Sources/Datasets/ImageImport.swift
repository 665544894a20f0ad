import Foundation

/// A person's picture converted to a dataset-style image, with a sentence saying how.
public struct ImportedImage: Sendable {
    /// side x side intensities in [0, 1], row-major, light ink on a dark ground.
    public let pixels: [Float]
    /// The image's width and height.
    public let side: Int
    /// What was done, e.g. "640x480 RGB -> grey by luminance; inverted (light background);
    /// ink 300x400 scaled to 15x20, centred by mass in 28x28".
    public let conversion: String

    /// An imported image and how it was made.
    public init(pixels: [Float], side: Int, conversion: String) {
        precondition(pixels.count == side * side, "an imported image needs \(side)x\(side) pixels, got \(pixels.count)")
        (self.pixels, self.side, self.conversion) = (pixels, side, conversion)
    }
}

/// Turns any picture (any size, colour or grey, either polarity) into the form of MNIST-like
/// datasets, the way MNIST itself was made: grey, light ink on a dark ground, the ink's bounding
/// box scaled (keeping its aspect) to fit a `box` x `box` square, placed in a `side` x `side`
/// frame with its centre of mass at the frame's centre.
///
/// Polarity is decided by the picture's border: a mean border level above one half means a light
/// background, and the picture is inverted. A picture already `side` x `side` in the dataset's
/// polarity is kept as it is.
public enum ImageImport {
    /// Levels above this fraction of the brightest level count as ink when finding the bounding box.
    public static let inkThreshold: Float = 0.2

    /// Converts a picture to an MNIST-style image: inverted when the ground is light, cropped to its
    /// ink's bounding box, scaled to fit `box` x `box` keeping its aspect ratio, and placed by its centre
    /// of mass in a `side` x `side` frame, as MNIST's digits were made.
    public static func convert(_ picture: PNGPicture, side: Int = 28, box: Int = 20) -> ImportedImage {
        precondition(side > 0 && box > 0 && box <= side, "need 0 < box <= side, got box \(box), side \(side)")
        let (width, height) = (picture.width, picture.height)
        var steps = ["\(width)x\(height) \(picture.sourceFormat)" + (picture.sourceFormat == "grey" ? "" : " -> grey by luminance" + (picture.sourceFormat.hasSuffix("alpha") ? ", transparency on white" : ""))]
        var grey = picture.grey.map { Float($0) / 255 }

        var border: Float = 0
        var borderCount = 0
        for y in 0..<height {
            for x in 0..<width where y == 0 || y == height - 1 || x == 0 || x == width - 1 {
                border += grey[y * width + x]
                borderCount += 1
            }
        }
        let inverted = border / Float(borderCount) > 0.5
        if inverted {
            for index in grey.indices { grey[index] = 1 - grey[index] }
            steps.append("inverted (light background) to light ink on dark")
        }
        if width == side && height == side {
            steps.append("already \(side)x\(side): kept as it is")
            return ImportedImage(pixels: grey, side: side, conversion: steps.joined(separator: "; "))
        }

        // The ink's bounding box.
        let brightest = grey.max() ?? 0
        var (minX, minY, maxX, maxY) = (width, height, -1, -1)
        if brightest > 0 {
            for y in 0..<height {
                for x in 0..<width where grey[y * width + x] > inkThreshold * brightest {
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
        let patch = resample(crop, width: inkWidth, height: inkHeight, toWidth: outWidth, toHeight: outHeight)

        // Centre of mass (pixel centres at i + 0.5) moved to the frame's centre, kept inside.
        var (mass, sumX, sumY) = (0.0, 0.0, 0.0)
        for y in 0..<outHeight {
            for x in 0..<outWidth {
                let value = Double(patch[y * outWidth + x])
                (mass, sumX, sumY) = (mass + value, sumX + value * (Double(x) + 0.5), sumY + value * (Double(y) + 0.5))
            }
        }
        let (centreX, centreY) = mass > 0 ? (sumX / mass, sumY / mass) : (Double(outWidth) / 2, Double(outHeight) / 2)
        let left = min(max(Int((Double(side) / 2 - centreX).rounded()), 0), side - outWidth)
        let top = min(max(Int((Double(side) / 2 - centreY).rounded()), 0), side - outHeight)
        var pixels = [Float](repeating: 0, count: side * side)
        for y in 0..<outHeight {
            for x in 0..<outWidth { pixels[(top + y) * side + left + x] = min(max(patch[y * outWidth + x], 0), 1) }
        }
        steps.append("ink \(inkWidth)x\(inkHeight) scaled to \(outWidth)x\(outHeight) and centred by mass in \(side)x\(side)")
        return ImportedImage(pixels: pixels, side: side, conversion: steps.joined(separator: "; "))
    }

    /// Area-weighted resampling: each output pixel is the mean of the source area it covers
    /// (a box filter), which neither aliases when shrinking nor blurs needlessly when enlarging.
    static func resample(_ source: [Float], width: Int, height: Int, toWidth: Int, toHeight: Int) -> [Float] {
        let columns = weights(from: width, to: toWidth), rows = weights(from: height, to: toHeight)
        var horizontal = [Float](repeating: 0, count: height * toWidth)
        for y in 0..<height {
            for (x, taps) in columns.enumerated() {
                horizontal[y * toWidth + x] = taps.reduce(0) { $0 + $1.weight * source[y * width + $1.index] }
            }
        }
        var out = [Float](repeating: 0, count: toHeight * toWidth)
        for (y, taps) in rows.enumerated() {
            for x in 0..<toWidth {
                out[y * toWidth + x] = taps.reduce(0) { $0 + $1.weight * horizontal[$1.index * toWidth + x] }
            }
        }
        return out
    }

    /// For each of `to` output cells, the source cells it overlaps and the share of its area each takes.
    static func weights(from: Int, to: Int) -> [[(index: Int, weight: Float)]] {
        let ratio = Double(from) / Double(to)
        return (0..<to).map { cell in
            let (start, end) = (Double(cell) * ratio, Double(cell + 1) * ratio)
            var taps: [(index: Int, weight: Float)] = []
            var index = Int(start.rounded(.down))
            while Double(index) < end && index < from {
                let overlap = min(end, Double(index + 1)) - max(start, Double(index))
                if overlap > 1e-12 { taps.append((index, Float(overlap / (end - start)))) }
                index += 1
            }
            return taps
        }
    }
}

extension PNGPicture {
    /// A decoded picture (PNG or JPEG) as grey levels, as `PNGFile` reads a PNG: composited on
    /// white by its alpha, then luminance (0.299 R + 0.587 G + 0.114 B), each level rounded. The
    /// conversion is the image folders' (`ImageFolder.transform` in grey at the picture's own size).
    public init(grey picture: RGBAPicture) {
        let options = ImageFolderOptions(path: "", height: picture.height, width: picture.width, colour: .grey)
        let (values, _) = ImageFolder.transform(picture, options: options)
        self.init(width: picture.width, height: picture.height, grey: values.map { UInt8(min(255, max(0, ($0 * 255).rounded()))) },
                  sourceFormat: picture.sourceFormat)
    }
}
