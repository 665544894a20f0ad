import Datasets

/// Small images tiled in a grid with a thin separating line between cells.
///
/// Shapes: `images` holds rows · columns images of `shape` (C x H x W values in [0, 1], planar,
/// one image after another; fewer leave the last cells blank). The grid is
/// (columns · W + (columns + 1) · gap) wide and likewise high, before `scale`, with C channels.
public enum ImageGrid {
    /// Tiles `images` into a `rows` x `columns` grid picture (see the type's shapes), each value
    /// v shown as level round(255 · clamp(v, 0, 1)).
    public static func make(images: [Float], shape: ImageShape, rows: Int, columns: Int,
                            gap: Int = 1, gapLevel: UInt8 = 128, scale: Int = 1) -> Picture {
        let size = shape.count
        precondition(size > 0 && images.count % size == 0, "\(images.count) values are not whole \(shape) images")
        precondition(images.count / size <= rows * columns, "\(images.count / size) images do not fit a \(rows)x\(columns) grid")
        let cells = (0..<(images.count / size)).map { Optional(Array(images[($0 * size)..<(($0 + 1) * size)])) }
        return draw(cells, shape: shape, rows: rows, columns: columns, gap: gap, gapLevel: gapLevel, scale: scale)
    }

    /// A grid of `columns` cells per row, as many rows as `cells` need; each cell an image of
    /// `shape`, or nil for a blank cell (gap level).
    public static func make(cells: [[Float]?], shape: ImageShape, columns: Int,
                            gap: Int = 1, gapLevel: UInt8 = 128, scale: Int = 1) -> Picture {
        precondition(columns > 0 && !cells.isEmpty, "a grid needs cells and at least one column")
        return draw(cells, shape: shape, rows: (cells.count + columns - 1) / columns, columns: columns, gap: gap, gapLevel: gapLevel, scale: scale)
    }

    /// Columns for `count` images that fill every row: the divisor of `count` nearest `preferred`
    /// between half and twice it (the smaller on a tie); `preferred` (capped at `count`) when
    /// there is none, and the last row stays partial.
    public static func balancedColumns(count: Int, preferred: Int) -> Int {
        precondition(count > 0 && preferred > 0, "a grid of \(count) images in rows of \(preferred)")
        let candidates = ((preferred + 1) / 2...(2 * preferred)).filter { count % $0 == 0 }
        return candidates.min { abs($0 - preferred) < abs($1 - preferred) } ?? min(preferred, count)
    }

    static func draw(_ cells: [[Float]?], shape: ImageShape, rows: Int, columns: Int, gap: Int, gapLevel: UInt8, scale: Int) -> Picture {
        let (imageWidth, imageHeight, channels) = (shape.width, shape.height, shape.channels)
        let width = columns * imageWidth + (columns + 1) * gap, height = rows * imageHeight + (rows + 1) * gap
        var grid = Picture(width: width, height: height, channels: channels, filledWith: gapLevel)
        for (index, cell) in cells.enumerated() {
            guard let cell else { continue }
            precondition(cell.count == shape.count, "cell \(index) has \(cell.count) values, not \(shape)")
            let left = gap + (index % columns) * (imageWidth + gap), top = gap + (index / columns) * (imageHeight + gap)
            let picture = Picture(values: cell, shape: shape)
            for y in 0..<imageHeight {
                for x in 0..<imageWidth {
                    for c in 0..<channels { grid[left + x, top + y, c] = picture[x, y, c] }
                }
            }
        }
        return grid.scaled(by: scale)
    }
}
