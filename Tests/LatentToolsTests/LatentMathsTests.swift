import Foundation
import LatentTools
import TensorCore
import Testing
import VAE

@Suite struct LatentMathsTests {
    @Test func normalQuantileMatchesTabulatedValues() {
        #expect(abs(NormalQuantile.quantile(0.975) - 1.959963984540054) < 1e-12)
        #expect(abs(NormalQuantile.quantile(0.05) + 1.6448536269514729) < 1e-12)
        #expect(abs(NormalQuantile.quantile(0.5)) < 1e-15)
        #expect(abs(NormalQuantile.quantile(1e-10) + 6.361340902404056) < 1e-9)
        let grid = NormalQuantile.grid(count: 20)
        #expect(grid.count == 20 && abs(grid[0] + 1.6448536269514729) < 1e-12)
        #expect(zip(grid, grid.reversed()).allSatisfy { abs($0.0 + $0.1) < 1e-12 })
        #expect(evenlySpaced(5, over: -3...3) == [-3, -1.5, 0, 1.5, 3])
    }

    @Test func principalComponentsFindTheDirectionOfLargestVarianceAndCentreTheProjection() {
        // Uniform noise with spreads 3, 1 and 0.1 along three orthonormal directions, shifted by 7.
        var rows: [Float] = []
        var generator = RandomGenerator(seed: 5)
        for _ in 0..<4000 {
            let (a, b, c) = (Float(generator.nextUniform() - 0.5), Float(generator.nextUniform() - 0.5), Float(generator.nextUniform() - 0.5))
            // Along (1,2,2)/3, (2,1,-2)/3 and (2,-2,1)/3.
            let (u, v, w) = (3 * a, 1 * b, 0.1 * c)
            rows += [(u + 2 * v + 2 * w) / 3, (2 * u + v - 2 * w) / 3, (2 * u - v + w) / 3].map { $0 + 7 }
        }
        let pca = PrincipalComponents(rows: rows, dimension: 3)
        let first = pca.components[0]
        #expect(abs(first[0] - 1.0 / 3) < 0.02 && abs(first[1] - 2.0 / 3) < 0.02 && abs(first[2] - 2.0 / 3) < 0.02)
        #expect(pca.explainedVarianceRatios[0] > 0.85 && pca.variances[0] > pca.variances[1] && pca.variances[1] > pca.variances[2])
        #expect(abs(pca.mean[0] - 7) < 0.05)
        // Projections are centred and their variance is the component's.
        let plane = pca.project(rows, components: 2)
        let mean = plane[0].reduce(0, +) / Double(plane[0].count)
        let variance = plane[0].reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(plane[0].count - 1)
        #expect(abs(mean) < 1e-6 && abs(variance - pca.variances[0]) < 1e-6 * pca.variances[0] + 1e-9)
    }

    @Test func linearInterpolationEndsAtBothVectorsAndPassesTheirMidpoint() {
        let points = InterpolationPath.linear.points(from: [0, 2], to: [4, -2], steps: 5)
        #expect(points.count == 5 && points[0] == [0, 2] && points[4] == [4, -2] && points[2] == [2, 0])
    }

    @Test func sphericalInterpolationKeepsTheNormBetweenVectorsOfEqualNorm() {
        let (a, b): ([Float], [Float]) = ([3, 0, 0], [0, 0, -3])
        let points = InterpolationPath.spherical.points(from: a, to: b, steps: 7)
        #expect(points.first == a)
        #expect(zip(points.last!, b).allSatisfy { abs($0.0 - $0.1) < 1e-6 })
        for point in points { #expect(abs(point.reduce(0) { $0 + $1 * $1 }.squareRoot() - 3) < 1e-5) }
        // The linear path cuts inside the sphere.
        let middle = InterpolationPath.linear.points(from: a, to: b, steps: 3)[1]
        #expect(middle.reduce(0) { $0 + $1 * $1 }.squareRoot() < 2.2)
        // Parallel vectors fall back to the straight line.
        #expect(InterpolationPath.spherical.points(from: [1, 1], to: [2, 2], steps: 3)[1] == [1.5, 1.5])
    }

    @Test func klPerDimensionSumsToTheELBOsKLTerm() {
        let explorer = smallExplorer(latentSize: 4)
        let images = barImages(20)
        let codes = explorer.model.encode(images: images, batchSize: 7)
        #expect(codes.count == 20 && codes.size == 4)
        var generator = RandomGenerator(seed: 1)
        let evaluation = explorer.model.evaluate(images: images, targets: images, batchSize: 20, using: &generator)
        #expect(abs(codes.klPerDimension.reduce(0, +) - evaluation.kl) < 1e-4 * max(1, evaluation.kl))
        // Closed form for μ = 1, log σ² = 0: ½ (1 + 1 − 0 − 1) = ½ per dimension.
        let fixed = LatentCodes(count: 2, size: 2, means: [1, 1, 1, 1], logVariances: [0, 0, 0, 0])
        #expect(fixed.klPerDimension == [0.5, 0.5])
    }

    @Test func logVarianceIsReadTheSameFromEveryVarianceHead() {
        // σ = 0.5 through each parameterisation gives log σ² = 2 log 0.5.
        var generator = RandomGenerator(seed: 1)
        for (head, spread) in [(VarianceHead.logVariance, Float(2 * log(0.5))), (.softplusStandardDeviation, Float(log(exp(0.5) - 1))), (.standardDeviation, 0.5)] {
            _ = generator
            let posterior = DiagonalGaussian(mean: Tensor(shape: [1, 1], scalars: [0]), spread: Tensor(shape: [1, 1], scalars: [spread]), head: head)
            let value = posterior.logVariance.scalars[0]
            #expect(abs(value - Float(2 * log(0.5))) < 1e-5)
        }
    }

    @Test func latentCSVHasAHeaderAndOneLinePerImage() {
        let codes = LatentCodes(count: 2, size: 2, means: [0.5, -1, 2, 0.25], logVariances: [0, -0.5, 1, 2])
        let csv = codes.csv(labels: [7, 3])
        #expect(csv == "index,label,mu_0,mu_1,logvar_0,logvar_1\n0,7,0.5,-1.0,0.0,-0.5\n1,3,2.0,0.25,1.0,2.0\n")
        let files = codes.csv(labels: nil, files: ["a.png", "my, digit.png"])
        #expect(files.hasPrefix("file,mu_0") && files.contains("\n\"my, digit.png\",2.0,"))
    }
}
